"""The promise, as a property: what an account pays changes only when an owner chooses.

A hypothesis state machine drives the services in any order: samples and weekly re-samples
(Projection rows), coefficient-set changes, Stripe webhooks (including replays and amounts
edited in Stripe), source removal and owners' choices. After every step the offset in force
must equal the last price an owner chose.
"""

import contextlib
import itertools
import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from billing import selectors, services, webhooks
from billing.models import Offset, OffsetChange
from connectors.models import EstimateSource
from tests.factories import (
    AccountFactory,
    EstimateSourceFactory,
    ProjectionFactory,
    SubscriptionFactory,
    owner_of,
)
from tests.stripe_fixtures import STRIPE_API, event, invoice, sign, stripe_subscription

from .helpers import activate_copy

_serial = itertools.count(1)

WEBHOOK_TYPES = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.updated",  # not handled: acknowledged and ignored
]


class OffsetMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint that teardown rolls back.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        n = next(_serial)
        self.account = AccountFactory(name=f"Machine {n}")
        self.owner = owner_of(self.account, email=f"owner{n}@example.org")
        SubscriptionFactory(account=self.account, stripe_customer_id=f"cus_m{n}")
        self.customer = f"cus_m{n}"
        self.expected_cents: int | None = None
        self.choices = 0
        self.chosen_prices: set[int] = set()
        self.sent_events: list[dict] = []
        self.clock = timezone.now()
        self.remote = stripe_subscription(customer=self.customer, sub_id=f"sub_m{n}")
        self.router = respx.mock(base_url=STRIPE_API, assert_all_called=False)
        self.router.__enter__()
        self.router.get(url__regex=r"/v1/subscriptions/.+").mock(
            side_effect=lambda request: httpx.Response(200, json=self.remote)
        )
        self.updates = self.router.post(url__regex=r"/v1/subscriptions/.+").mock(
            side_effect=lambda request: httpx.Response(200, json=self.remote)
        )

    def teardown(self):
        self.router.__exit__(None, None, None)
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _tick(self):
        self.clock += timedelta(minutes=7)
        return self.clock

    # --- the world around the offset ---------------------------------------------------------

    @initialize()
    def start_with_a_source(self):
        EstimateSourceFactory(account=self.account)

    @rule()
    def connect_source(self):
        EstimateSourceFactory(account=self.account, label=f"Org {next(_serial)}")

    @rule(
        co2e=st.integers(min_value=0, max_value=5_000),
        water=st.integers(min_value=0, max_value=50_000),
        weekly=st.booleans(),
        pick=st.integers(min_value=0, max_value=10),
    )
    def sample(self, co2e, water, weekly, pick):
        sources = list(EstimateSource.objects.filter(account=self.account))
        if sources:
            source = sources[pick % len(sources)]
            trigger = "weekly" if weekly else "manual"
            ProjectionFactory(
                source=source,
                co2e_kg=Decimal(co2e),
                water_l=Decimal(water),
                trigger=trigger,
                at=self._tick(),
            )

    @rule(price_per_tonne=st.sampled_from(["150", "300", "650", "1200", "5000"]))
    def coefficient_set_changes(self, price_per_tonne):
        activate_copy(price_per_tonne=price_per_tonne, version=f"m{next(_serial)}")

    @rule(pick=st.integers(min_value=0, max_value=10))
    def remove_source(self, pick):
        sources = list(EstimateSource.objects.filter(account=self.account))
        if sources:
            sources[pick % len(sources)].delete()

    @rule(
        kind=st.sampled_from(WEBHOOK_TYPES),
        status=st.sampled_from(["active", "past_due", "canceled", "incomplete", "paused_x"]),
        amount=st.integers(min_value=50, max_value=2_000_000),
    )
    def webhook(self, kind, status, amount):
        # Stripe's copy may say anything, including an amount edited in the Dashboard.
        self.remote = stripe_subscription(
            customer=self.customer, sub_id=self.remote["id"], status=status, amount=amount
        )
        if kind == "checkout.session.completed":
            obj = {
                "id": "cs_m",
                "mode": "subscription",
                "customer": self.customer,
                "subscription": self.remote["id"],
                "metadata": {"account_id": str(self.account.public_id)},
            }
        elif kind.startswith("invoice."):
            obj = invoice(customer=self.customer, subscription=self.remote["id"])
        else:
            obj = self.remote
        self._deliver(event(kind, obj, created=int(self._tick().timestamp())))

    @precondition(lambda self: self.sent_events)
    @rule(pick=st.integers(min_value=0, max_value=100))
    def webhook_replayed(self, pick):
        self._deliver(self.sent_events[pick % len(self.sent_events)])

    def _deliver(self, evt):
        payload = json.dumps(evt)
        webhooks.webhook_receive(payload=payload.encode(), signature=sign(payload))
        self.sent_events.append(evt)

    # --- owners' choices: the only rules that may move the price ------------------------------

    def _chose(self, change):
        self.expected_cents = change.to_price_cents
        self.chosen_prices.add(change.to_price_cents)
        self.choices += 1

    @rule(slug=st.sampled_from(["casual", "worker", "agentic", "extreme"]), stale=st.booleans())
    def choose_band(self, slug, stale):
        offer = selectors.band_offer(slug=slug)
        shown = offer.price_cents + (1 if stale else 0)
        with contextlib.suppress(services.OffsetError):
            change = services.offset_choose_band(
                account=self.account, user=self.owner, band_slug=slug, expected_price_cents=shown
            )
            self._chose(change)

    @rule(amount=st.integers(min_value=0, max_value=1_200_000))
    def set_custom(self, amount):
        with contextlib.suppress(services.OffsetError):
            change = services.offset_set_custom(
                account=self.account, user=self.owner, amount_cents=amount
            )
            self._chose(change)

    @rule()
    def adopt_estimate(self):
        estimate = selectors.estimate_offer(
            account=self.account, offset=selectors.offset_in_force(account=self.account)
        )
        if estimate is None:
            return
        self._chose(
            services.offset_adopt_estimate(
                account=self.account,
                user=self.owner,
                expected_price_cents=selectors.cents(estimate.price_usd),
            )
        )

    # --- the promise ------------------------------------------------------------------------

    @invariant()
    def the_price_is_the_last_owner_choice(self):
        offset = Offset.objects.filter(account=self.account).first()
        if self.expected_cents is None:
            assert offset is None
            return
        assert offset.price_cents == self.expected_cents
        changes = OffsetChange.objects.filter(account=self.account)
        assert changes.count() == self.choices
        assert changes.first().to_price_cents == self.expected_cents

    @invariant()
    def stripe_only_hears_amounts_an_owner_chose(self):
        for call in self.updates.calls:
            sent = parse_qs(call.request.content.decode())
            assert int(sent["items[0][price_data][unit_amount]"][0]) in self.chosen_prices
            assert sent["proration_behavior"] == ["none"]


@pytest.fixture
def machine_settings(stripe_settings, mailoutbox):
    return stripe_settings


def test_the_price_changes_only_on_an_owners_choice(db, machine_settings):
    run_state_machine_as_test(
        OffsetMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_regression_nothing_but_choices_moves_the_price(db, machine_settings):
    """One explicit sequence through every kind of step."""
    m = OffsetMachine()
    try:
        m.start_with_a_source()
        m.choose_band(slug="agentic", stale=False)
        assert Offset.objects.get(account=m.account).price_cents == 295
        m.sample(co2e=40, water=100, weekly=False, pick=0)
        m.webhook(kind="checkout.session.completed", status="active", amount=295)
        m.sample(co2e=900, water=100, weekly=True, pick=0)
        m.coefficient_set_changes(price_per_tonne="1200")
        m.webhook(kind="customer.subscription.updated", status="active", amount=99_999)
        m.webhook(kind="invoice.payment_failed", status="past_due", amount=295)
        m.webhook_replayed(pick=0)
        m.remove_source(pick=0)
        m.the_price_is_the_last_owner_choice()
        assert Offset.objects.get(account=m.account).price_cents == 295
        assert m.updates.call_count == 0

        # The band re-priced under the new set: adopting it is the owner's explicit choice.
        repriced = selectors.band_repriced(offset=selectors.offset_in_force(account=m.account))
        assert repriced is not None and repriced.price_cents > 295
        m.choose_band(slug="agentic", stale=False)
        assert Offset.objects.get(account=m.account).price_cents == repriced.price_cents
        assert Offset.objects.get(account=m.account).price_usd > Decimal("2.95")
        m.the_price_is_the_last_owner_choice()
        m.stripe_only_hears_amounts_an_owner_chose()
    finally:
        m.teardown()
