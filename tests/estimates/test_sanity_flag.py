"""The staff sanity flag: energy against the GPU energy a projection's spend buys."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.calibration import calibration_report
from connectors.records import CostRecord
from estimates import sanity, storage
from estimates.coefficients import coefficient_set_active
from estimates.models import DailyUsage, Sample
from tests.factories import EstimateSourceFactory, ProjectionFactory

END = date(2026, 11, 21)
START = END - timedelta(days=90)


def test_a_dollar_buys_0_6_kwh_of_gpu_time():
    assert sanity.spend_energy_kwh(Decimal(100)) == Decimal(60)


@pytest.mark.parametrize(
    ("kwh", "flagged"),
    [
        (Decimal("17.99"), False),
        (Decimal("18"), False),  # exactly 30% of the 60 kWh $100 buys: not above
        (Decimal("18.01"), True),
    ],
)
def test_it_flags_only_energy_above_30_percent_of_what_the_spend_buys(kwh, flagged):
    ratio = sanity.energy_spend_ratio(kwh, Decimal(100))
    assert sanity.flagged(ratio) is flagged


def test_without_spend_there_is_no_ratio_and_no_flag():
    assert sanity.energy_spend_ratio(Decimal(1000), Decimal(0)) is None
    assert sanity.flagged(None) is False


def _build(source, *, output_per_day: int, spend_per_day: Decimal | None):
    sample = Sample(source=source, account=source.account, window_start=START, window_end=END)
    usage = [
        DailyUsage(account=source.account, source=source, date=START + timedelta(i),
                   model="claude-sonnet-4-6", service_tier="standard", output=output_per_day)
        for i in range(90)
    ]  # fmt: skip
    costs = []
    if spend_per_day is not None:
        records = [
            CostRecord(START + timedelta(i), "Claude Sonnet 4.6 Usage - Output Tokens",
                       {"cost_type": "tokens"}, spend_per_day, "USD")
            for i in range(90)
        ]  # fmt: skip
        costs = storage.cost_rows(records)
    return storage.projection_build(
        sample=sample, usage=usage, costs=costs,
        coefficient_set=coefficient_set_active(), previous=None,
    )  # fmt: skip


def test_every_projection_with_spend_stores_its_ratio(db):
    # 1M output tokens a day on a large Anthropic model: 1.14 kWh a day, 34.69875 kWh a month.
    projection = _build(EstimateSourceFactory(), output_per_day=1_000_000, spend_per_day=Decimal(1))
    assert projection.kwh == Decimal("34.69875")
    assert projection.provider_spend_usd == Decimal("30.4375")
    # 34.69875 / (30.4375 / 2 × 1.2) = 1.9
    assert projection.energy_spend_ratio == Decimal("1.9")
    assert sanity.flagged(projection.energy_spend_ratio)


def test_a_projection_whose_spend_buys_enough_energy_is_not_flagged(db):
    projection = _build(
        EstimateSourceFactory(), output_per_day=1_000_000, spend_per_day=Decimal(20)
    )
    assert projection.energy_spend_ratio == Decimal("0.095")
    assert not sanity.flagged(projection.energy_spend_ratio)


def test_a_projection_without_spend_is_never_flagged(db):
    source = EstimateSourceFactory(vendor="google", key="x" * 40)
    projection = _build(source, output_per_day=10**9, spend_per_day=None)
    assert projection.energy_spend_ratio is None


def _flagged_pair():
    high = ProjectionFactory(
        source__label="Heavy org", kwh=Decimal("90"), provider_spend_usd=Decimal("100"),
        energy_spend_ratio=Decimal("1.5"),
    )  # fmt: skip
    low = ProjectionFactory(
        source__label="Calm org", kwh=Decimal("6"), provider_spend_usd=Decimal("100"),
        energy_spend_ratio=Decimal("0.1"),
    )  # fmt: skip
    none = ProjectionFactory(source__label="Google org", energy_spend_ratio=None)
    return high, low, none


def test_staff_see_flagged_sources_with_the_figures_that_led_to_it(admin_client):
    _flagged_pair()
    page = admin_client.get(reverse("admin:estimates_flaggedprojection_changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Heavy org" in body and "Calm org" not in body and "Google org" not in body
    assert "90.00" in body and "100.00" in body and "60.00" in body and "150%" in body


def test_only_the_latest_projection_of_a_source_counts(admin_client):
    high, _, _ = _flagged_pair()
    ProjectionFactory(source=high.source, energy_spend_ratio=Decimal("0.2"),
                      at=high.created_at + timedelta(days=7))  # fmt: skip
    body = admin_client.get(reverse("admin:estimates_flaggedprojection_changelist")).content
    assert b"Heavy org" not in body


def test_the_calibration_page_shows_each_ratio(admin_client):
    _flagged_pair()
    report = calibration_report()
    assert [
        (r["projection"].source.label, r["ratio_pct"], r["flagged"]) for r in report["sanity"]
    ] == [("Heavy org", Decimal("150.0"), True), ("Calm org", Decimal("10.0"), False)]
    body = admin_client.get(reverse("admin:billing_calibration")).content.decode()
    assert 'id="sanity"' in body and "150.0%" in body and "Flagged" in body
