from django.db import migrations
from django.utils import timezone


def seed_v2(apps, schema_editor):
    from estimates import coefficients_v2
    from estimates.seed import seed_coefficient_set

    CoefficientSet = apps.get_model("estimates", "CoefficientSet")
    # v1 stays, inactive, for the projections and offsets that used it; one set is active.
    CoefficientSet.objects.filter(is_active=True).update(is_active=False)
    seed_coefficient_set(
        coefficients_v2,
        CoefficientSet=CoefficientSet,
        Coefficient=apps.get_model("estimates", "Coefficient"),
        Band=apps.get_model("estimates", "Band"),
        ModelClassRule=apps.get_model("estimates", "ModelClassRule"),
    )


def unseed_v2(apps, schema_editor):
    CoefficientSet = apps.get_model("estimates", "CoefficientSet")
    CoefficientSet.objects.filter(version="v2").delete()
    if not CoefficientSet.objects.filter(is_active=True).exists():
        CoefficientSet.objects.filter(version="v1").update(
            is_active=True, activated_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("estimates", "0004_projection_last_usage")]

    operations = [migrations.RunPython(seed_v2, unseed_v2)]
