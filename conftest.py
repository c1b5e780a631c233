"""Shared fixtures: HC-style alice/bob accounts as ``account``/``owner``/``member``/``other_*``."""

import pytest

from connectors.sandbox.catalogue import make_key
from tests.factories import (
    PASSWORD,
    AccountFactory,
    EstimateSourceFactory,
    UserFactory,
    member_of,
    owner_of,
)
from tokenoffset.accounts.models import User

pytest_plugins = ["tests.sandbox_fixtures", "tests.stripe_fixtures"]

__all__ = ["PASSWORD", "ensure_coefficient_set", "make_user"]  # imported by test modules


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Rate limits live in the cache: start every test with an empty one.
    from django.core.cache import cache

    from estimates.storage import _referenced_parts
    from tokenoffset.accounts import viewers
    from tokenoffset.dashboard.page import recent

    cache.clear()
    recent.clear()  # the dashboard pages this process keeps beside the cache
    viewers.clear()  # and the viewers' rows
    _referenced_parts.clear()  # and the coefficient sets it read
    yield
    cache.clear()
    recent.clear()
    viewers.clear()
    _referenced_parts.clear()


def make_user(email: str) -> User:
    """A user with no account, who can log in with ``PASSWORD``."""
    return UserFactory(email=email)


@pytest.fixture
def account(db):
    return AccountFactory(name="Alice Labs")


@pytest.fixture
def owner(account):
    return owner_of(account, email="alice@example.org")


@pytest.fixture
def member(account):
    return member_of(account, email="charlie@example.org")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Bob Studio")


@pytest.fixture
def other_owner(other_account):
    return owner_of(other_account, email="bob@example.org")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def other_client(client, other_owner):
    client.force_login(other_owner)
    return client


@pytest.fixture
def sandbox(settings, vendor_sandbox):
    settings.VENDOR_SANDBOX_URL = vendor_sandbox
    return vendor_sandbox


@pytest.fixture
def make_source(account, owner, sandbox):
    """A sandbox source of the given behaviour, stored exactly as the add flow stores it."""

    def make(behaviour="flat", vendor="anthropic", *, params=None, key=None):
        return EstimateSourceFactory(
            account=account,
            vendor=vendor,
            label=f"{vendor} {behaviour}",
            key=key or make_key(vendor, behaviour, params=params),
            is_sandbox=True,
            created_by=owner,
        )

    return make


@pytest.fixture(scope="module")
def coefficient_set_restored(django_db_setup, django_db_blocker):
    """For tests that commit and end with a flush of every table: the seeded sets put back after
    the module (a function-scoped fixture would end before the flush it must follow)."""
    with django_db_blocker.unblock():
        ensure_coefficient_set()
    yield
    with django_db_blocker.unblock():
        ensure_coefficient_set()


def ensure_coefficient_set() -> None:
    """Put the migration-seeded coefficient sets back (v1, then v2 in force) if a transactional
    test's flush took them."""
    from estimates import coefficients_v1, coefficients_v2
    from estimates.models import Band, Coefficient, CoefficientSet, ModelClassRule
    from estimates.seed import seed_coefficient_set

    if CoefficientSet.objects.filter(is_active=True).exists():
        return
    for data in (coefficients_v1, coefficients_v2):
        if not CoefficientSet.objects.filter(version=data.VERSION).exists():
            seed_coefficient_set(
                data,
                CoefficientSet=CoefficientSet,
                Coefficient=Coefficient,
                Band=Band,
                ModelClassRule=ModelClassRule,
                active=data is coefficients_v2,
            )
