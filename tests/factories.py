"""Rows as the product stores them, built in one place: accounts, people, sources with a real
encrypted key, samples, projections and Stripe subscriptions.

Each factory fills what the product always fills and takes any field as a keyword, so a test
names only what it is about: ``EstimateSourceFactory(account=account, label="Acme org")``.
"""

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import Subscription
from connectors import crypto
from connectors.models import EstimateSource
from estimates.coefficients import coefficient_set_active
from estimates.models import DailyUsage, Projection, Sample, SampleStatus, SampleTrigger
from tokenoffset.accounts.models import Account, Membership, Role, User

PASSWORD = "correct horse battery staple"
KEY_PREFIX = {"anthropic": "sk-ant-admin01-", "openai": "sk-admin-"}
_keys = itertools.count(1)


def admin_key(vendor: str = "anthropic", *, last4: str = "wxyz") -> str:
    """A real-looking admin key of ``vendor`` ending in ``last4``, unique per call."""
    return f"{KEY_PREFIX[vendor]}{next(_keys):08d}{'k' * 72}{last4}"


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")


class UserFactory(DjangoModelFactory):
    """A user who can log in with ``PASSWORD``."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the manager, as sign-up does: the email normalised, the password hashed.
        return model_class.objects.create_user(*args, **kwargs)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


def owner_of(account: Account, **user_fields) -> User:
    """A new user (``UserFactory(**user_fields)``) who owns ``account``."""
    user = UserFactory(**user_fields)
    MembershipFactory(account=account, user=user, role=Role.OWNER)
    return user


def member_of(account: Account, **user_fields) -> User:
    """A new user (``UserFactory(**user_fields)``) who is a plain member of ``account``."""
    return MembershipFactory(
        account=account, role=Role.MEMBER, user=UserFactory(**user_fields)
    ).user


def account_owned_by(user: User, **account_fields) -> Account:
    """A new account (``AccountFactory(**account_fields)``) that ``user`` owns."""
    account = AccountFactory(**account_fields)
    MembershipFactory(account=account, user=user, role=Role.OWNER)
    return account


class EstimateSourceFactory(DjangoModelFactory):
    """A source whose key is encrypted exactly as the add flow stores it (``key=`` to
    choose the plaintext; its last four characters become the hint)."""

    class Meta:
        model = EstimateSource

    class Params:
        key = factory.LazyAttribute(lambda o: admin_key(o.vendor))

    account = factory.SubFactory(AccountFactory)
    public_id = factory.LazyFunction(uuid.uuid4)
    vendor = "anthropic"
    label = factory.Sequence(lambda n: f"Org {n}")
    key_ciphertext = factory.LazyAttribute(
        lambda o: crypto.encrypt(o.key, source_public_id=o.public_id)
    )
    key_hint = factory.LazyAttribute(lambda o: o.key[-4:])


class SampleFactory(DjangoModelFactory):
    """A successful first sample of the 90 days before ``started_at``; a succeeded or failed
    one finishes the moment it starts, any other status is still under way."""

    class Meta:
        model = Sample

    source = factory.SubFactory(EstimateSourceFactory)
    account = factory.SelfAttribute("source.account")
    trigger = SampleTrigger.FIRST
    status = SampleStatus.SUCCEEDED
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(
        lambda o: (
            o.started_at if o.status in (SampleStatus.SUCCEEDED, SampleStatus.FAILED) else None
        )
    )
    created_at = factory.SelfAttribute("started_at")
    window_start = factory.LazyAttribute(lambda o: (o.started_at - timedelta(days=90)).date())
    window_end = factory.LazyAttribute(lambda o: o.started_at.date())


class ProjectionFactory(DjangoModelFactory):
    """A projection of the active coefficient set, with its own successful sample."""

    class Meta:
        model = Projection

    class Params:
        at = factory.LazyFunction(timezone.now)
        trigger = SampleTrigger.FIRST

    source = factory.SubFactory(EstimateSourceFactory)
    account = factory.SelfAttribute("source.account")
    sample = factory.SubFactory(
        SampleFactory,
        source=factory.SelfAttribute("..source"),
        started_at=factory.SelfAttribute("..at"),
        trigger=factory.SelfAttribute("..trigger"),
    )
    coefficient_set = factory.LazyFunction(coefficient_set_active)
    method_version = "test"
    window_start = factory.SelfAttribute("sample.window_start")
    window_end = factory.SelfAttribute("sample.window_end")
    monthly_tokens = factory.LazyFunction(
        lambda: {"uncached_input": 1000, "cache_read": 0, "cache_write": 0, "output": 500}
    )
    monthly_tokens_low = 1000
    monthly_tokens_high = 2000
    co2e_kg = Decimal("10")
    water_l = Decimal("50")
    it_kwh = factory.SelfAttribute("co2e_kg")
    kwh = factory.SelfAttribute("co2e_kg")
    created_at = factory.SelfAttribute("at")


class DailyUsageFactory(DjangoModelFactory):
    """One day of one model's tokens on a source, grouped as Anthropic reports them."""

    class Meta:
        model = DailyUsage

    source = factory.SubFactory(EstimateSourceFactory)
    account = factory.SelfAttribute("source.account")
    date = factory.LazyFunction(lambda: timezone.now().date())
    model = "claude-sonnet-4-6"
    service_tier = "standard"
    context_window = "0-200k"
    batch = ""


class SubscriptionFactory(DjangoModelFactory):
    """A Stripe customer with no subscription yet; ``live=True`` for an active $1.99 one, as
    the webhooks would have left it."""

    class Meta:
        model = Subscription

    class Params:
        live = factory.Trait(
            stripe_subscription_id="sub_1",
            stripe_item_id="si_1",
            status="active",
            unit_amount_cents=199,
        )

    account = factory.SubFactory(AccountFactory)
    stripe_customer_id = "cus_1"
