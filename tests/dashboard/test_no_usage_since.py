"""A source whose usage stopped says so on the dashboard instead of showing an old level."""

from datetime import timedelta

from django.urls import reverse

from connectors.models import SourceStatus
from estimates.models import Projection
from tests.billing import helpers


def make_source(account, **kwargs):
    source = helpers.make_source(account, **kwargs)
    source.status = SourceStatus.READY
    source.save(update_fields=["status"])
    return source


def make_projection(source):
    return helpers.make_projection(source)


def stop(projection, *, days_before_window_end):
    projection.last_usage = projection.window_end - timedelta(days=days_before_window_end)
    projection.save(update_fields=["last_usage"])
    return projection


def test_a_source_without_usage_for_two_whole_weeks_says_since_when(owner_client, account):
    projection = stop(make_projection(make_source(account)), days_before_window_end=20)

    html = owner_client.get(reverse("dashboard:home")).content.decode()

    since = projection.last_usage
    assert f'data-no-usage-since="{since:%Y-%m-%d}"' in html
    assert f"No usage since {since.day} {since:%b %Y}: projected at zero" in html
    assert "nothing is projected until usage resumes" in html


def test_a_source_quiet_for_less_than_two_weeks_is_not_called_stopped(owner_client, account):
    stop(make_projection(make_source(account)), days_before_window_end=14)

    html = owner_client.get(reverse("dashboard:home")).content.decode()

    assert "No usage since" not in html


def test_the_estimate_says_no_usage_only_when_every_source_stopped(owner_client, account):
    stop(make_projection(make_source(account, label="Old team")), days_before_window_end=30)
    make_projection(make_source(account, label="New team"))

    html = owner_client.get(reverse("dashboard:home")).content.decode()

    assert html.count("data-no-usage-since") == 1  # on the stopped source only
    assert "nothing is projected until usage resumes" not in html


def test_a_projection_knows_its_last_day_of_usage_from_the_sample(db):
    assert Projection._meta.get_field("last_usage").null
