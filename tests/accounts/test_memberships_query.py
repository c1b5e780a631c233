"""The request's user and memberships come from one plain SQL statement: what the ORM gives."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.signals import request_started
from django.db import DatabaseError, connection, connections
from django.urls import reverse

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tokenoffset.accounts import access
from tokenoffset.accounts.access import user_with_memberships
from tokenoffset.accounts.models import Account, Membership, Role, User


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_it_loads_exactly_what_the_orm_loads_in_one_query(db, django_assert_num_queries):
    user = UserFactory(email="dana@example.org")
    for name, role in (("Zeta Co", Role.OWNER), ("Acme", Role.MEMBER), ("Mid Ltd", Role.MEMBER)):
        MembershipFactory(account=AccountFactory(name=name), user=user, role=role)
    MembershipFactory(account=AccountFactory(name="Not hers"), user=UserFactory())
    expected = list(
        Membership.objects.filter(user=user).select_related("account").order_by("account__name")
    )
    with django_assert_num_queries(1):
        loaded_user = user_with_memberships(user.pk)
        loaded = loaded_user.loaded_memberships
        assert [m.account.name for m in loaded] == ["Acme", "Mid Ltd", "Zeta Co"]
    assert values(loaded_user) == values(User.objects.get(pk=user.pk))
    assert [values(m) for m in loaded] == [values(m) for m in expected]
    assert [values(m.account) for m in loaded] == [values(m.account) for m in expected]
    assert all(isinstance(m.account, Account) and not m._state.adding for m in loaded)


def test_a_user_without_memberships_has_none_and_an_unknown_id_is_no_user(db):
    assert user_with_memberships(UserFactory().pk).loaded_memberships == []
    assert user_with_memberships(10**9) is None
    assert user_with_memberships("not a number") is None


def test_a_session_signed_in_with_djangos_own_backend_stays_signed_in(client, owner):
    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session.create()
    client.cookies["sessionid"] = session.session_key
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200 and "Signed in as alice@example.org" in response.text
    assert client.session[BACKEND_SESSION_KEY] == "tokenoffset.accounts.backends.ModelBackend"


def test_an_inactive_user_is_signed_out_as_before(client, owner):
    client.force_login(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200 and "Signed in as" not in response.text


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


@postgresql_only
def test_on_postgresql_the_viewer_query_is_a_prepared_statement_returning_what_the_orm_returns(
    db,
):
    user = UserFactory()
    MembershipFactory(account=AccountFactory(name="Acme"), user=user, role=Role.OWNER)
    expected = Membership.objects.select_related("account").get(user=user)
    for _ in range(2):  # prepared at the first run, executed as prepared at the second
        loaded = user_with_memberships(user.pk)
        assert values(loaded) == values(User.objects.get(pk=user.pk))
        [membership] = loaded.loaded_memberships
        assert values(membership) == values(expected)
        assert values(membership.account) == values(expected.account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any(s.startswith("SELECT u.") and "LEFT JOIN" in s for s in statements)


@postgresql_only
def test_a_connection_closed_by_the_server_between_requests_is_replaced_by_the_viewer_query(
    transactional_db,
):
    user = UserFactory()
    user_with_memberships(user.pk)  # a request on a persistent connection
    old_pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    with other.cursor() as cursor:  # the server ends the idle connection (restart, failover)
        cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    other.close()
    request_started.send(sender=None)  # the next request: its first query finds it dead
    loaded = user_with_memberships(user.pk)
    assert loaded is not None and loaded.pk == user.pk
    assert connection.connection.info.backend_pid != old_pid
    assert connection.health_check_done  # checked for this request: no second round trip


@postgresql_only
def test_a_viewer_query_failing_on_a_live_connection_raises_instead_of_being_run_again(db):
    with pytest.raises(DatabaseError):
        access._viewer_rows(connection, "SELECT 1/0 WHERE %s", [True])
