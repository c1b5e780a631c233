from django.db import migrations


def seed_v3(apps, schema_editor):
    from estimates import coefficients_v3
    from estimates.seed import seed_coefficient_set

    # Inactive: staff activate it in the admin once the live Stripe Climate price allows it.
    seed_coefficient_set(
        coefficients_v3,
        CoefficientSet=apps.get_model("estimates", "CoefficientSet"),
        Coefficient=apps.get_model("estimates", "Coefficient"),
        Band=apps.get_model("estimates", "Band"),
        ModelClassRule=apps.get_model("estimates", "ModelClassRule"),
        active=False,
    )


def unseed_v3(apps, schema_editor):
    apps.get_model("estimates", "CoefficientSet").objects.filter(version="v3").delete()


class Migration(migrations.Migration):
    dependencies = [("estimates", "0007_sanity_ratio_web_searches_left_out_spend")]

    operations = [migrations.RunPython(seed_v3, unseed_v3)]
