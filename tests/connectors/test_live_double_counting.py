"""Live rows already counted elsewhere: an admin key's organisation, the billing answer, logs."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from connectors import services as connector_services
from connectors.live.models import LiveSource
from connectors.live.services import live_source_create
from connectors.models import EstimateSource, Kind
from connectors.sandbox.catalogue import make_key
from estimates import sampling
from estimates.live import _usage_with_logs_before, live_reproject, live_reproject_all
from estimates.models import DailyUsage, PushedSource
from estimates.tasks import live_reproject_task
from tests.connectors.live_fakes import metrics_json, point, send_metrics
from tests.factories import EstimateSourceFactory


@pytest.fixture(autouse=True)
def _reprojections(monkeypatch, db):
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: None)


@pytest.fixture
def base():
    return (timezone.now() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)


def stream(client, token, base, *, org=None, days=3):
    extra = {"organization.id": org} if org else {}
    data = metrics_json(
        [
            point(1000, type="output", at=base + timedelta(days=d), extra=extra, session=f"s{d}")
            for d in range(days)
        ]
    )
    assert send_metrics(client, data, token=token).status_code == 200


def test_an_anthropic_source_keeps_its_organisation_id_from_validation(account, owner, sandbox):
    key = make_key("anthropic", "flat")
    source = connector_services.source_create(
        account=account, user=owner, vendor="anthropic", raw_key=key, is_sandbox=True
    )
    assert uuid.UUID(source.organization_id)


def test_an_existing_anthropic_source_learns_its_organisation_at_its_next_sample(make_source):
    source = make_source("flat")
    assert source.organization_id == ""
    sample = sampling.sample_request(source=source, trigger="weekly")
    assert sampling.sample_run(sample_id=sample.pk).status == "succeeded"
    source.refresh_from_db()
    assert uuid.UUID(source.organization_id)


def test_live_rows_of_a_connected_admin_keys_organisation_are_shown_not_counted(
    client, account, owner, base
):
    EstimateSourceFactory(account=account, vendor="anthropic", organization_id="org-abc")
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="unknown"
    )
    stream(client, token.raw, base, org="org-abc")
    projection = live_reproject(source=source)
    assert DailyUsage.objects.filter(source=source).count() == 3  # shown
    assert projection.active_days == 0 and projection.co2e_kg == 0  # not in the total
    live = LiveSource.objects.get(source=source)
    assert live.excluded_from_total and live.organization_ids == ["org-abc"]


def test_live_rows_of_another_organisation_count(client, account, owner, base):
    EstimateSourceFactory(account=account, vendor="anthropic", organization_id="org-abc")
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    stream(client, token.raw, base, org="org-personal")
    projection = live_reproject(source=source)
    assert projection.active_days == 3 and projection.preliminary
    assert projection.co2e_kg > 0


@pytest.mark.parametrize(
    ("billing", "admin", "counted"),
    [
        ("api_key", True, False),
        ("api_key", False, True),
        ("subscription", True, True),
        ("unknown", True, True),
    ],
)
def test_the_billing_answer_decides_streams_with_no_account(
    client, account, owner, base, billing, admin, counted
):
    if admin:
        EstimateSourceFactory(account=account, vendor="anthropic")
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing=billing
    )
    stream(client, token.raw, base)
    projection = live_reproject(source=source)
    assert (projection.active_days > 0) is counted


def test_local_logs_count_only_the_days_before_the_stream_began(client, account, owner, base):
    logs = EstimateSource.objects.create(
        account=account, kind=Kind.LOCAL_LOGS, vendor="anthropic", label="Claude Code on laptop"
    )
    first_log_day = (base - timedelta(days=10)).date()
    PushedSource.objects.create(
        account=account,
        source=logs,
        surface="claude_code",
        computer="laptop",
        first_day=first_log_day,
        last_day=(base + timedelta(days=2)).date(),
        latest_day=(base + timedelta(days=2)).date(),
    )
    for back in range(13):
        DailyUsage.objects.create(
            account=account,
            source=logs,
            date=first_log_day + timedelta(days=back),
            model="claude-opus-4-6",
            output=500,
        )
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    with time_machine.travel(base, tick=False):
        stream(client, token.raw, base)  # the stream begins on base's day
    projection = live_reproject(source=source)
    # One series: the logs' days before the stream, then the live rows (days with both: live).
    assert projection.first_usage == first_log_day
    assert projection.last_usage == base.date()
    assert logs.projections.first().active_days == 0  # not counted a second time
    assert DailyUsage.objects.filter(source=logs).count() == 13  # kept and shown
    by_day = {r.date: r.output for r in projection_rows(source)}
    assert by_day[base.date()] == 1000 and by_day[first_log_day] == 500


def test_the_daily_projection_ends_yesterday_and_the_first_one_includes_today(
    client, account, owner
):
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    now = timezone.now()
    send_metrics(client, metrics_json([point(10, type="output", at=now)]), token=token.raw)
    first = live_reproject(source=source)
    assert first.window_end == now.date() + timedelta(days=1) and first.active_days == 1
    with time_machine.travel(now + timedelta(days=2), tick=False):
        assert live_reproject_all() == 1
    daily = source.projections.first()
    assert daily.window_end == now.date() + timedelta(days=2)  # exclusive: up to yesterday
    source.refresh_from_db()
    assert source.status == "ready"


def projection_rows(source):
    return _usage_with_logs_before(LiveSource.objects.select_related("source").get(source=source))
