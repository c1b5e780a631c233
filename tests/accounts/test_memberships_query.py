"""The request's memberships come from one plain SQL statement: the same rows the ORM gives."""

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tokenoffset.accounts.access import user_memberships
from tokenoffset.accounts.models import Account, Membership, Role
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
        loaded = user_memberships(user.pk)
        assert [m.account.name for m in loaded] == ["Acme", "Mid Ltd", "Zeta Co"]
    assert [values(m) for m in loaded] == [values(m) for m in expected]
    assert [values(m.account) for m in loaded] == [values(m.account) for m in expected]
    assert all(isinstance(m.account, Account) and not m._state.adding for m in loaded)


def test_a_user_without_memberships_has_none(db):
    assert user_memberships(UserFactory().pk) == []


def test_the_redis_cache_builds_one_client_per_connection_pool():
    cache = ReusedClientRedisCache("redis://127.0.0.1:1/0", {})
    client = cache._cache.get_client("key", write=True)
    assert cache._cache.get_client("other", write=False) is client
