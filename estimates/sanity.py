"""The staff sanity check on a projection: its energy against the GPU time its spend could buy.

A source's spend grounds its estimate: at about $2 per H100-hour and ~1.2 kW per GPU, a dollar
buys 0.6 kWh of GPU time. A projection whose energy (facility kWh, PUE included) exceeds 30% of
what its projected provider spend buys is flagged for staff review. A projection without spend
(Google, local logs, live telemetry) has no ratio and is never flagged.

The arithmetic is pure; ``latest_with_spend`` is staff's cross-account read (admin, calibration).
"""

from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from connectors.models import EstimateSource

from .models import Projection, SampleStatus
from .models.samples import SANITY_FLAG_ABOVE

GPU_USD_PER_HOUR = Decimal("2")
GPU_KW = Decimal("1.2")
FLAG_ABOVE = SANITY_FLAG_ABOVE  # flagged when the ratio is strictly greater


def spend_energy_kwh(spend_usd: Decimal) -> Decimal:
    """The energy a spend buys as H100 time."""
    return spend_usd / GPU_USD_PER_HOUR * GPU_KW


def energy_spend_ratio(kwh: Decimal, spend_usd: Decimal) -> Decimal | None:
    """The estimate's energy over the energy its spend buys; None without spend."""
    if spend_usd <= 0:
        return None
    return (kwh / spend_energy_kwh(spend_usd)).quantize(Decimal("0.000001"))


def flagged(ratio: Decimal | None) -> bool:
    return ratio is not None and ratio > FLAG_ABOVE


def latest_with_spend(*, flagged_only: bool = False) -> QuerySet[Projection]:
    """Every source's latest successful projection that has a ratio (spend), highest first."""
    latest = (
        Projection.objects.filter(source=OuterRef("pk"), sample__status=SampleStatus.SUCCEEDED)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    ids = EstimateSource.objects.annotate(latest=Subquery(latest)).exclude(latest=None)
    rows = Projection.objects.filter(pk__in=ids.values("latest"), energy_spend_ratio__isnull=False)
    if flagged_only:
        rows = rows.filter(energy_spend_ratio__gt=FLAG_ABOVE)
    return rows.select_related("source", "account").order_by("-energy_spend_ratio")
