"""The weekly "your usage moved — adopt?" email: when it goes out, and that it never adopts."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing import alerts, tasks
from billing.models import Offset, OffsetChange, UsageAlert
from billing.services import offset_choose_band, offset_set_custom
from tests.factories import ProjectionFactory
from tokenoffset.celery import app as celery_app

# ProjectionFactory(co2e_kg=10, water_l=50) prices at $3.10 a month under the seeded set.
ESTIMATE_CENTS = 310


@pytest.fixture
def moved(account, owner, member):
    """Billed $1.99 (Worker band), estimated $3.10: moved by 56%."""
    offset_choose_band(account=account, user=owner, band_slug="worker", expected_price_cents=199)
    ProjectionFactory(source__account=account)
    return account


def offset_state(account):
    offset = Offset.objects.get(account=account)
    return (offset.kind, offset.price_cents, offset.band_slug, offset.chosen_at, offset.projection)


@pytest.mark.parametrize(
    ("billed", "estimate", "expected"),
    [(1000, 1100, False), (1000, 1101, True), (1000, 900, False), (1000, 899, True)],
)
def test_only_a_move_of_more_than_10_percent_counts(billed, estimate, expected):
    assert alerts.usage_moved(billed_cents=billed, estimate_cents=estimate) is expected


def test_it_emails_the_owners_when_the_estimate_moved_more_than_10_percent(moved, settings):
    settings.SITE_URL = "https://tokenoffset.test"
    assert alerts.usage_alert_check(account=moved) is True

    [email] = mail.outbox  # to the owners only, not to the read-only member
    assert email.subject == "[Token Offset] Your usage moved — adopt?"
    assert email.to == ["alice@example.org"]
    assert "$3.10 a month" in email.body and "You pay $1.99 a month" in email.body
    assert "up 56%" in email.body
    assert "https://tokenoffset.test/billing/" in email.body
    alert = UsageAlert.objects.get(account=moved)
    assert (alert.last_billed_cents, alert.last_estimate_cents) == (199, ESTIMATE_CENTS)


def test_a_drop_says_down(account, owner):
    offset_set_custom(account=account, user=owner, amount_cents=1000)
    ProjectionFactory(source__account=account)
    assert alerts.usage_alert_check(account=account) is True
    assert "down 69%" in mail.outbox[0].body


@pytest.mark.parametrize("billed", [282, 310, 340])
def test_no_email_within_10_percent(account, owner, billed):
    offset_set_custom(account=account, user=owner, amount_cents=billed)
    ProjectionFactory(source__account=account)

    assert alerts.usage_alert_check(account=account) is False
    assert not mail.outbox


def test_just_over_10_percent_sends(account, owner):
    offset_set_custom(account=account, user=owner, amount_cents=281)  # 310 is 10.3% above
    ProjectionFactory(source__account=account)
    assert alerts.usage_alert_check(account=account) is True


def test_no_email_without_an_offset_or_without_an_estimate(account, owner, other_account):
    ProjectionFactory(source__account=other_account)  # an estimate, no offset
    offset_choose_band(account=account, user=owner, band_slug="worker", expected_price_cents=199)
    assert alerts.usage_alert_check(account=account) is False
    assert alerts.usage_alert_check(account=other_account) is False
    assert not mail.outbox


def test_not_twice_in_a_week(moved):
    now = timezone.now()
    assert alerts.usage_alert_check(account=moved, now=now) is True
    assert alerts.usage_alert_check(account=moved, now=now) is False
    assert alerts.usage_alert_check(account=moved, now=now + timedelta(days=1)) is False
    assert alerts.usage_alert_check(account=moved, now=now + timedelta(days=6)) is False
    assert len(mail.outbox) == 1
    # Next Sunday's run, even a few seconds early, sends again.
    next_week = now + timedelta(days=7) - timedelta(seconds=5)
    assert alerts.usage_alert_check(account=moved, now=next_week) is True
    assert len(mail.outbox) == 2


def test_not_when_an_owner_turned_it_off(moved, owner_client):
    response = owner_client.post("/billing/alerts/usage/", {"enabled": "false"})

    assert response.status_code == 302 and response.url == "/billing/"
    assert UsageAlert.objects.get(account=moved).enabled is False
    assert alerts.usage_alert_check(account=moved) is False
    assert moved.pk not in alerts.usage_alert_account_ids()
    assert not mail.outbox

    owner_client.post("/billing/alerts/usage/", {"enabled": "true"})
    assert alerts.usage_alert_check(account=moved) is True


def test_it_never_changes_the_offset(moved):
    before = offset_state(moved)
    changes = OffsetChange.objects.filter(account=moved).count()

    alerts.usage_alert_check(account=moved)
    alerts.usage_alert_check(account=moved, now=timezone.now() + timedelta(days=8))

    assert len(mail.outbox) == 2
    assert offset_state(moved) == before
    assert OffsetChange.objects.filter(account=moved).count() == changes


def test_the_billing_page_shows_the_toggle_to_owners(moved, owner_client, client, member):
    body = owner_client.get("/billing/").content.decode()
    assert "Usage alerts" in body and "Turn off" in body
    assert 'name="enabled" value="false"' in body
    client.force_login(member)
    body = client.get("/billing/").content.decode()
    assert "Usage alerts" in body and "Turn off" not in body


def test_members_cannot_turn_it_off(moved, member_client):
    assert member_client.post("/billing/alerts/usage/", {"enabled": "false"}).status_code == 403
    assert alerts.usage_alert_enabled(account=moved) is True


def test_another_accounts_owner_only_changes_their_own(moved, other_client, other_account):
    other_client.post("/billing/alerts/usage/", {"enabled": "false"})
    assert alerts.usage_alert_enabled(account=moved) is True
    assert alerts.usage_alert_enabled(account=other_account) is False


def test_the_fanout_queues_every_account_with_an_offset_that_wants_it(
    moved, other_account, other_owner, monkeypatch
):
    offset_set_custom(account=other_account, user=other_owner, amount_cents=500)
    alerts.usage_alert_set(account=other_account, enabled=False)
    queued = []
    monkeypatch.setattr(tasks.usage_alert_task, "delay", queued.append)

    tasks.usage_alerts_weekly_fanout_task()

    assert queued == [moved.pk]


def test_the_task_checks_one_account(moved):
    tasks.usage_alert_task(moved.pk)
    tasks.usage_alert_task(moved.pk)
    tasks.usage_alert_task(987654321)  # a deleted account: nothing to do
    assert len(mail.outbox) == 1


def test_the_beat_runs_it_on_sunday_at_10_utc():
    entry = celery_app.conf.beat_schedule["usage-alerts-weekly"]
    assert entry["task"] == "billing.tasks.usage_alerts_weekly_fanout_task"
    schedule = entry["schedule"]
    assert schedule.hour == {10} and schedule.minute == {0} and schedule.day_of_week == {0}
