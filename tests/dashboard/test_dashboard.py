"""The dashboard: first-run states, the estimate and its chart, sources, a constant query count."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Offset
from connectors.models import SourceStatus
from estimates.models import DailyUsage, SampleStatus
from estimates.schedule import next_weekly_sample
from tests.factories import (
    DailyUsageFactory,
    EstimateSourceFactory,
    ProjectionFactory,
    SampleFactory,
)
from tokenoffset.accounts.services import account_data_changed
from tokenoffset.dashboard.charts import nice_step, token_chart
from tokenoffset.dashboard.selectors import (
    DayTotals,
    daily_token_totals,
    progress_pages,
)

TOKENS = {
    "uncached_input": 1_200_000,
    "cache_read": 9_800_000,
    "cache_write": 400_000,
    "output": 1_000_000,
}  # 12.4M in all


# --- rows as the dashboard shows them: factories with this page's figures -----------------------


def make_source(account, *, vendor="anthropic", label="Alice Org", status=SourceStatus.READY):
    return EstimateSourceFactory(account=account, vendor=vendor, label=label, status=status)


def _scaled(footprint: dict, factor: str) -> dict:
    return {k: str(Decimal(v) * Decimal(factor)) for k, v in footprint.items()}


def make_projection(
    source,
    *,
    window_end: date | None = None,
    tokens=None,
    finished_at=None,
    trend_pct=None,
    spend=Decimal("3.20"),
):
    tokens = tokens or TOKENS
    window_end = window_end or timezone.now().date()
    footprint = {"it_kwh": "1.5", "kwh": "1.8", "co2e_kg": "0.828", "water_l": "70.2"}
    total = sum(tokens.values())
    return ProjectionFactory(
        source=source,
        at=finished_at or timezone.now(),
        window_start=window_end - timedelta(days=90),
        window_end=window_end,
        active_days=90,
        monthly_tokens=tokens,
        monthly_tokens_by_class={
            f"{source.vendor}|large": {
                t: {"point": n, "low": n * 8 // 10, "high": n * 12 // 10} for t, n in tokens.items()
            }
        },
        monthly_tokens_low=total * 8 // 10,
        monthly_tokens_high=total * 12 // 10,
        provider_spend_usd=spend,
        provider_spend_low_usd=spend * Decimal("0.8"),
        provider_spend_high_usd=spend * Decimal("1.25"),
        **{k: Decimal(v) for k, v in footprint.items()},
        footprint_low=_scaled(footprint, "0.8"),
        footprint_high=_scaled(footprint, "1.2"),
        price_contribution_usd=Decimal("0.388800"),
        trend_pct=trend_pct,
    )


def make_daily_usage(source, day, *, model="claude-sonnet-4-6", **tokens):
    return DailyUsageFactory(source=source, date=day, model=model, **tokens)


def page(client) -> str:
    """The dashboard's HTML with runs of whitespace collapsed, so phrases match across lines."""
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


# --- first-run states ----------------------------------------------------------------------------


def test_without_an_offset_it_offers_the_bands_with_prices(owner_client):
    html = page(owner_client)
    assert "Pick your monthly offset" in html
    for name in ("Casual", "Worker", "Agentic", "Extreme"):
        assert name in html
    worker = re.search(r'data-band="worker".*?</li>', html, re.S).group(0)
    assert "Suggested" in worker and "$1.99" in worker
    assert "About 3 million tokens a month (1 million to 20 million)" in worker
    agentic = re.search(r'data-band="agentic".*?</li>', html, re.S).group(0)
    assert "$2.95" in agentic and "Suggested" not in agentic
    assert "$32.74" in html
    assert f'href="{reverse("billing:home")}"' in html


def test_without_a_source_it_explains_why_to_connect_one(owner_client, settings):
    settings.VENDOR_SANDBOX_URL = ""
    html = page(owner_client)
    assert "Sharpen your number" in html
    assert f'href="{reverse("sources:add")}"' in html
    assert "Local mode" not in html


def test_in_local_mode_it_points_at_the_sandbox(owner_client, settings):
    settings.VENDOR_SANDBOX_URL = "http://127.0.0.1:8765"
    assert "Local mode" in page(owner_client)


def test_a_running_first_sample_shows_progress_and_polls(owner_client, account):
    source = make_source(account, status=SourceStatus.SAMPLING)
    progress = {
        "reports": {
            "usage_report": {"pages_done": 2, "pages_total": 3},
            "cost_report": {"pages_done": 1, "pages_total": 3},
        }
    }
    SampleFactory(source=source, status=SampleStatus.RUNNING, progress=progress)
    html = page(owner_client)
    assert "Your first estimate is on its way" in html
    assert f'data-source-id="{source.public_id}"' in html
    assert 'data-poll-url="/api/v1/estimate" data-polling' in html
    assert '<progress data-progress max="6" value="3">' in html
    assert "3 of 6 pages" in html
    assert "js/dashboard.js" in html
    assert "style=" not in html and "<script>" not in html


def test_a_pending_source_polls_with_an_indeterminate_bar(owner_client, account):
    make_source(account, status=SourceStatus.PENDING)
    html = page(owner_client)
    assert "data-polling" in html
    assert "<progress data-progress>" in html


def test_no_polling_once_every_source_is_settled(owner_client, account):
    make_projection(make_source(account))
    assert "data-polling" not in page(owner_client)


def test_a_failed_source_names_the_estimate_still_in_force(owner_client, account):
    source = make_source(account, status=SourceStatus.FAILED)
    make_projection(source, finished_at=datetime(2026, 3, 1, 8, 5, tzinfo=UTC))
    html = page(owner_client)
    assert "Last sample failed" in html
    assert "The estimate from 1 Mar 2026 stays in force." in html


def test_a_rejected_key_asks_the_owner_to_replace_it(owner_client, account):
    source = make_source(account, status=SourceStatus.NEEDS_ATTENTION)
    html = page(owner_client)
    assert "Needs attention" in html
    assert reverse("sources:replace", args=[source.public_id]) in html


# --- the estimate --------------------------------------------------------------------------------


def test_an_estimate_renders_people_numbers_and_the_chart(owner_client, account):
    source = make_source(account)
    today = timezone.now().date()
    make_projection(source, trend_pct=18.0)
    for days_ago in range(1, 91):
        make_daily_usage(source, today - timedelta(days=days_ago), output=10_000, cache_read=90_000)
    html = page(owner_client)

    assert "12.4M" in html  # tokens a month
    cache_reads = re.search(r'data-token-type="cache_read".*?</tr>', html, re.S).group(0)
    assert "Cache reads" in cache_reads and "9.8M" in cache_reads
    assert "7.8M–11.8M" in cache_reads  # its own range
    assert "$3.20" in html  # provider spend
    assert "1.8 kWh" in html
    assert "0.83 kg" in html
    assert "70 L" in html
    assert "$1.99" in html  # the price (floor)
    assert "+18%" in html
    assert "Stale" not in html
    assert "~08:00 UTC" in html and "data-local-time=" in html

    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert '<title id="token-chart-title">' in chart
    assert "Tokens per day" in chart and "Date (UTC)" in chart
    assert 'class="proj-line"' in chart
    assert chart.count('class="s-cache_read"') == 90
    assert "Show the numbers as a table" in html
    yesterday = today - timedelta(days=1)
    row = re.search(rf"<th scope=\"row\">{yesterday:%a} {yesterday.day} .*?</tr>", html, re.S)
    assert row and "100k" in row.group(0)


def test_an_old_estimate_is_labelled_stale(owner_client, account):
    make_projection(make_source(account), finished_at=timezone.now() - timedelta(days=15))
    assert "Stale" in page(owner_client)


def test_an_offset_in_force_is_shown_with_adopt_when_the_estimate_differs(
    owner_client, account, owner
):
    Offset.objects.create(
        account=account, kind="band", band_slug="agentic", band_name="Agentic", price_cents=295
    )
    make_projection(make_source(account))
    html = page(owner_client)
    assert "Pick your monthly offset" not in html
    assert "Agentic band" in html and "$2.95" in html
    assert "Your latest estimate comes to $1.99 a month." in html
    assert "Review and adopt" in html


def test_no_adopt_offer_when_the_estimate_matches_what_is_billed(owner_client, account):
    Offset.objects.create(account=account, kind="estimate", price_cents=199)
    make_projection(make_source(account))
    html = page(owner_client)
    assert "Your adopted estimate" in html
    assert "Review and adopt" not in html


def test_a_member_sees_the_dashboard_read_only(member_client, account):
    Offset.objects.create(account=account, kind="band", band_slug="worker", price_cents=500)
    make_projection(make_source(account))
    html = page(member_client)
    assert "read-only" in html
    assert "12.4M" in html
    assert "Review and adopt" not in html
    assert reverse("sources:add") not in html
    assert "Manage sources" not in html


def test_a_member_sees_the_bands_but_no_choice(member_client):
    html = page(member_client)
    assert "$32.74" in html
    assert "Choose a band" not in html
    assert "An owner of this account picks the offset." in html


def test_another_account_sees_none_of_this_accounts_data(other_client, account):
    source = make_source(account, label="Alice Secret Org")
    make_projection(source)
    html = page(other_client)
    assert "Alice Secret Org" not in html
    assert str(source.public_id) not in html
    assert "12.4M" not in html


def test_anonymous_visitors_get_the_front_page_not_a_log_in_form(client, db):
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert 'id="example"' in response.content.decode()  # the front page, not the dashboard


@pytest.mark.parametrize(("days", "models", "sources"), [(1, 1, 1), (90, 12, 3)])
def test_the_query_count_does_not_grow_with_history(
    owner_client, account, django_assert_num_queries, days, models, sources
):
    Offset.objects.create(account=account, kind="band", band_slug="worker", price_cents=199)
    today = timezone.now().date()
    for s in range(sources):
        source = make_source(account, label=f"Org {s}")
        make_projection(source, trend_pct=5.0)
        SampleFactory(source=source, status=SampleStatus.FAILED)
        DailyUsage.objects.bulk_create(
            DailyUsage(
                account=account,
                source=source,
                date=today - timedelta(days=d + 1),
                model=f"model-{m}",
                service_tier="standard",
                context_window="",
                batch="",
                output=1000,
                cache_read=5000,
            )
            for d in range(days)
            for m in range(models)
        )
    page(owner_client)  # the first page stores the current account in the session
    account_data_changed(account_id=account.pk)  # as a writer would: the next page misses
    with django_assert_num_queries(QUERIES_ON_A_MISS):
        missed = page(owner_client)
    with django_assert_num_queries(QUERIES_ON_A_HIT):
        hit = page(owner_client)
    assert _without_csrf(hit) == _without_csrf(missed)


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


# On a hit, the rendered page comes from the cache, and the user with their memberships and
# accounts from the rows this process kept (their stamps read with the session): no query.
QUERIES_ON_A_HIT = 0
# After a write, one query reads the user with their memberships and accounts again.
VIEWER_QUERY = 1
# On a miss, the figures and the page too: the active coefficient set's id (the figures' key); the
# offset; the estimate (2) and its coefficients; the daily aggregate; sources and their running
# samples (2); the removal so far (2); the billing banner's subscription.
QUERIES_ON_A_MISS = VIEWER_QUERY + 11


# --- the parts -----------------------------------------------------------------------------------


def test_daily_totals_sum_sources_and_models_and_fill_empty_days(account, other_account):
    a, b = make_source(account), make_source(account, vendor="openai", label="OpenAI")
    stranger = make_source(other_account)
    start = date(2026, 3, 1)
    make_daily_usage(a, start, output=1, cache_read=10)
    make_daily_usage(a, start, model="claude-opus-4-6", output=2, uncached_input=5)
    make_daily_usage(b, start, model="gpt-5", output=4, cache_write=7)
    make_daily_usage(a, start + timedelta(days=2), output=3)
    make_daily_usage(stranger, start, output=1000)
    make_daily_usage(a, start + timedelta(days=3), output=1000)  # outside the window

    days = daily_token_totals(
        account=account, source_ids=[a.pk, b.pk, stranger.pk], start=start, end=start + timedelta(3)
    )
    assert [d.day for d in days] == [start + timedelta(i) for i in range(3)]
    assert days[0] == DayTotals(start, uncached_input=5, cache_read=10, cache_write=7, output=7)
    assert days[1].total == 0
    assert days[2].output == 3


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),  # Sat
        (datetime(2026, 3, 8, 7, 59, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 8, 8, 0, tzinfo=UTC), datetime(2026, 3, 15, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 9, 0, 30, tzinfo=UTC), datetime(2026, 3, 15, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_next_weekly_sample_is_the_next_sunday_at_eight_utc(now, expected):
    assert next_weekly_sample(now) == expected


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 3, 7, 12, 0, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)]
    + [datetime(2026, 11, 23, 8, 0, tzinfo=UTC) + timedelta(hours=13 * i) for i in range(14)],
)
def test_celery_beat_runs_the_weekly_sample_when_the_dashboard_says(now):
    from tokenoffset.celery import app

    beat = app.conf.beat_schedule["samples-weekly"]["schedule"]
    schedule = type(beat)(
        beat._orig_minute, beat._orig_hour, beat._orig_day_of_week, nowfun=lambda: now
    )
    assert now + schedule.remaining_estimate(now) == next_weekly_sample(now)


def test_progress_pages_are_unknown_until_every_report_knows_its_total():
    assert progress_pages(None) == (0, None)
    assert progress_pages({"reports": {}}) == (0, None)
    assert progress_pages({"reports": {"a": {"pages_done": 1, "pages_total": None}}}) == (1, None)
    both = {"a": {"pages_done": 1, "pages_total": 2}, "b": {"pages_done": 0, "pages_total": 4}}
    assert progress_pages({"reports": both}) == (1, 6)


def test_the_chart_escapes_its_text_and_scales_to_nice_ticks():
    days = [DayTotals(date(2026, 3, 1) + timedelta(i), output=i * 1000) for i in range(10)]
    svg = token_chart(
        days,
        per_day=(Decimal(5000), Decimal(4000), Decimal(6000)),
        title="<script>alert(1)</script>",
        description="a & b",
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert svg.count('<rect class="s-output"') == 9  # the empty first day draws nothing
    assert ">10k</text>" in svg  # top tick above the peak of 9k
    assert nice_step(2300) == 2500
    assert nice_step(0.7) == 1
    assert nice_step(41) == 50
