"""Staff calibration (bands against sampled usage) and the de-identified aggregate export."""

import csv
import io
from datetime import UTC, datetime

import pytest

from billing.calibration import aggregates_csv_write, calibration_report
from billing.selectors import band_offer
from billing.services import offset_choose_band
from connectors.models import EstimateSource
from estimates.calibration import quartiles, sampled_by_account
from tests.factories import (
    AccountFactory,
    EstimateSourceFactory,
    ProjectionFactory,
    UserFactory,
    owner_of,
)

M = 1_000_000
NOW = datetime(2025, 5, 15, 12, tzinfo=UTC)  # Q2 2025; the previous quarter is Q1


def sampled_account(name, band, tokens=None, *, at=NOW, sandbox=False, source=True):
    """An account on ``band`` with one source whose latest projection samples ``tokens``."""
    account = AccountFactory(name=name)
    user = owner_of(account, email=f"{name.lower().replace(' ', '.')}@example.org")
    price = band_offer(slug=band).price_cents
    offset_choose_band(account=account, user=user, band_slug=band, expected_price_cents=price)
    if source:
        src = EstimateSourceFactory(account=account, label=f"{name} Org", is_sandbox=sandbox)
        if tokens is not None:
            project(src, tokens, at=at)
    return account


def project(source, tokens, *, at=NOW):
    return ProjectionFactory(
        source=source,
        at=at,
        monthly_tokens={"uncached_input": 0, "cache_read": 0, "cache_write": 0, "output": tokens},
        monthly_tokens_by_class={"anthropic|large": {"output": {"point": tokens}}},
    )


def row_for(report, slug):
    return next(r for r in report["rows"] if r["band"].slug == slug)


def test_quartiles():
    assert quartiles([]) is None
    assert quartiles([7]) == (7, 7, 7)
    assert quartiles([10, 20, 30, 40, 50]) == (20, 30, 40)


def test_sampled_usage_is_read_from_estimates_without_any_offset(db):
    account = AccountFactory(name="No offset yet")
    source = EstimateSourceFactory(account=account)
    project(source, 7 * M, at=datetime(2025, 4, 1, tzinfo=UTC))
    project(source, 9 * M, at=datetime(2025, 5, 1, tzinfo=UTC))  # the latest counts
    sandbox = EstimateSourceFactory(account=account, label="Sandbox", is_sandbox=True)
    project(sandbox, 500 * M)

    sampled = sampled_by_account()

    assert list(sampled) == [account.pk]
    assert sampled[account.pk].tokens == 9 * M
    assert sampled[account.pk].by_class == {"anthropic|large": 9 * M}
    assert sampled_by_account(until=datetime(2025, 4, 15, tzinfo=UTC))[account.pk].tokens == 7 * M


def test_calibration_counts_accounts_with_a_connected_source_and_their_quartiles(db):
    for i, tokens in enumerate([10, 20, 30, 40, 50]):
        sampled_account(f"Worker {i}", "worker", tokens * M)
    sampled_account("Worker unsampled", "worker")  # connected, no projection yet
    sampled_account("Worker no source", "worker", source=False)
    sampled_account("Worker sandbox", "worker", 999 * M, sandbox=True)
    sampled_account("Casual one", "casual", 1 * M)

    report = calibration_report(now=NOW)

    worker = row_for(report, "worker")
    assert (worker["accounts"], worker["sampled"]) == (6, 5)
    assert (worker["p25"], worker["median"], worker["p75"]) == (20 * M, 30 * M, 40 * M)
    assert worker["median_vs_volume"] == round(30 * M / worker["band"].volume, 2)
    casual = row_for(report, "casual")
    assert (casual["accounts"], casual["median"]) == (1, 1 * M)
    assert row_for(report, "extreme")["accounts"] == 0


def test_calibration_compares_the_median_with_the_previous_quarter(db):
    for i, (before, now) in enumerate([(10, 15), (20, 30), (30, 45)]):
        account = sampled_account(f"Agentic {i}", "agentic")
        source = EstimateSource.objects.get(account=account)
        project(source, before * M, at=datetime(2025, 2, 10, tzinfo=UTC))
        project(source, (before + 100) * M, at=datetime(2025, 3, 30, tzinfo=UTC))  # later in Q1
        project(source, now * M, at=datetime(2025, 4, 10, tzinfo=UTC))

    report = calibration_report(now=NOW)

    agentic = row_for(report, "agentic")
    assert report["this_label"] == "2025 Q2" and report["last_label"] == "2025 Q1"
    assert agentic["median_this_quarter"] == 30 * M
    assert agentic["median_last_quarter"] == 120 * M  # the latest of Q1: 20M + 100M
    assert agentic["qoq_pct"] == -75.0


def test_the_calibration_page_shows_each_band(admin_client):
    sampled_account("Worker a", "worker", 12 * M)
    body = admin_client.get("/admin/billing/offset/calibration/").content.decode()
    assert 'data-band="worker"' in body and "12000000" in body
    assert "/admin/billing/offset/aggregates.csv" in body
    assert "/admin/billing/offset/calibration/" in admin_client.get("/admin/").content.decode()


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def population(db):
    """Five accounts on Worker, four on Casual."""
    accounts = [sampled_account(f"Worker Co {i}", "worker", (i + 1) * M) for i in range(5)]
    accounts += [sampled_account(f"Casual Co {i}", "casual", (i + 1) * 100_000) for i in range(4)]
    return accounts


def test_the_aggregate_export_suppresses_groups_under_five_accounts(admin_client, population):
    response = admin_client.get("/admin/billing/offset/aggregates.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="tokenoffset-aggregates-' in response["Content-Disposition"]
    rows = {(r["group"], r["value"]): r for r in read_csv(response)}
    assert ("band", "worker") in rows and ("band", "casual") not in rows
    worker = rows[("band", "worker")]
    assert worker["accounts"] == "5"
    assert worker["monthly_tokens_median"] == str(3 * M)
    assert worker["monthly_tokens_total"] == str(15 * M)
    assert rows[("all", "all")]["accounts"] == "9"
    assert rows[("offset_kind", "band")]["accounts"] == "9"
    assert rows[("vendor_model_class", "anthropic|large")]["accounts"] == "9"
    assert all(int(r["accounts"]) >= 5 for r in rows.values())


def test_the_aggregate_export_holds_no_identifiers(admin_client, population):
    body = admin_client.get("/admin/billing/offset/aggregates.csv").content.decode()

    assert "Co " not in body and "@" not in body and "example.org" not in body
    for account in population:
        assert str(account.public_id) not in body
        for source in EstimateSource.objects.filter(account=account):
            assert str(source.public_id) not in body and source.label not in body
            assert source.key_hint not in body
    assert set(body.splitlines()[0].split(",")) == {
        "group", "value", "accounts", "monthly_tokens_total", "monthly_tokens_p25",
        "monthly_tokens_median", "monthly_tokens_p75", "kwh_total", "co2e_kg_total",
        "water_l_total",
    }  # fmt: skip


def test_a_group_of_four_is_suppressed_and_five_is_present(admin_client, db):
    for i in range(4):
        sampled_account(f"Extreme {i}", "extreme", 500 * M)
    rows = read_csv(admin_client.get("/admin/billing/offset/aggregates.csv"))
    assert not any(r["value"] == "extreme" for r in rows)
    assert rows == []  # even "all" has only four accounts

    sampled_account("Extreme 4", "extreme", 500 * M)
    rows = read_csv(admin_client.get("/admin/billing/offset/aggregates.csv"))
    assert any(r["group"] == "band" and r["value"] == "extreme" for r in rows)


def test_the_aggregates_csv_is_written_without_a_request(population):
    out = io.StringIO()

    aggregates_csv_write(out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["group"], r["value"], r["accounts"]) for r in rows] == [
        ("all", "all", "9"),
        ("band", "worker", "5"),
        ("offset_kind", "band", "9"),
        ("vendor_model_class", "anthropic|large", "9"),
    ]


def test_staff_pages_need_staff(client, owner_client, db):
    response = owner_client.get("/admin/billing/offset/aggregates.csv")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    staff = UserFactory(email="staff@example.org", is_staff=True)
    client.force_login(staff)  # staff, but without permission to view billing
    assert client.get("/admin/billing/offset/aggregates.csv").status_code == 403
    assert client.get("/admin/billing/offset/calibration/").status_code == 403
