"""The request's user and memberships come from one plain SQL statement: what the ORM gives."""

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.urls import reverse

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tokenoffset.accounts.access import user_with_memberships
from tokenoffset.accounts.models import Account, Membership, Role, User
from tokenoffset.redis_cache import ReusedClientRedisCache


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


def test_the_redis_cache_builds_one_client_per_connection_pool():
    cache = ReusedClientRedisCache("redis://127.0.0.1:1/0", {})
    client = cache._cache.get_client("key", write=True)
    assert cache._cache.get_client("other", write=False) is client
