"""Shared fixtures: HC-style alice/bob accounts as ``account``/``owner``/``member``/``other_*``."""

import uuid

import pytest

from connectors import crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from tokenoffset.accounts.models import Account, Membership, Role, User

pytest_plugins = ["tests.sandbox_fixtures"]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Rate limits live in the cache: start every test with an empty one.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def make_user(email: str) -> User:
    return User.objects.create_user(email=email, password=PASSWORD)


@pytest.fixture
def account(db):
    return Account.objects.create(name="Alice Labs")


@pytest.fixture
def owner(account):
    user = make_user("alice@example.org")
    Membership.objects.create(account=account, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def member(account):
    user = make_user("charlie@example.org")
    Membership.objects.create(account=account, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def other_account(db):
    return Account.objects.create(name="Bob Studio")


@pytest.fixture
def other_owner(other_account):
    user = make_user("bob@example.org")
    Membership.objects.create(account=other_account, user=user, role=Role.OWNER)
    return user


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
        key = key or make_key(vendor, behaviour, params=params)
        public_id = uuid.uuid4()
        return EstimateSource.objects.create(
            account=account,
            public_id=public_id,
            vendor=vendor,
            label=f"{vendor} {behaviour}",
            key_ciphertext=crypto.encrypt(key, source_public_id=public_id),
            key_hint=key[-4:],
            is_sandbox=True,
            created_by=owner,
        )

    return make


def ensure_coefficient_set() -> None:
    """Put the migration-seeded coefficient set back if a transactional test's flush took it."""
    from estimates import coefficients_v1
    from estimates.models import Band, Coefficient, CoefficientSet, ModelClassRule
    from estimates.seed import seed_coefficient_set

    if not CoefficientSet.objects.filter(is_active=True).exists():
        seed_coefficient_set(
            coefficients_v1,
            CoefficientSet=CoefficientSet,
            Coefficient=Coefficient,
            Band=Band,
            ModelClassRule=ModelClassRule,
        )
