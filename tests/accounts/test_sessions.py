"""Sessions live in the cache, written through to the database: reading one costs no query."""

from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PASSWORD


def _session_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_a_signed_in_request_reads_its_session_without_a_query(client, owner):
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    client.get(reverse("dashboard:home"))  # the first page may store the current account
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard:home")).status_code == 200
    assert _session_queries(queries.captured_queries) == []


def test_the_session_is_written_through_to_the_database_and_survives_a_cleared_cache(client, owner):
    from django.core.cache import cache

    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert Session.objects.filter(session_key=client.session.session_key).exists()
    cache.clear()  # e.g. Redis restarted: the database copy still signs the user in
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert response.context["user"] == owner


def test_logging_out_ends_the_session_in_the_cache_too(client, owner):
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"].value
    client.post(reverse("account_logout"))
    client.cookies["sessionid"] = cookie  # replaying the old cookie signs nobody in
    response = client.get(reverse("billing:home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert not Session.objects.filter(session_key=cookie).exists()
