from django.db import migrations


def seed_v1(apps, schema_editor):
    from estimates import coefficients_v1
    from estimates.seed import seed_coefficient_set

    seed_coefficient_set(
        coefficients_v1,
        CoefficientSet=apps.get_model("estimates", "CoefficientSet"),
        Coefficient=apps.get_model("estimates", "Coefficient"),
        Band=apps.get_model("estimates", "Band"),
        ModelClassRule=apps.get_model("estimates", "ModelClassRule"),
    )


def unseed_v1(apps, schema_editor):
    apps.get_model("estimates", "CoefficientSet").objects.filter(version="v1").delete()


class Migration(migrations.Migration):
    dependencies = [("estimates", "0001_initial")]

    operations = [migrations.RunPython(seed_v1, unseed_v1)]
