"""The ledger's promise, as a property: over any sequence of invoices paid, refunded and
disputed, monthly batches, cancellations and deliveries, the tonnes allocated in an order never
exceed the tonnes it ordered, every paid obligation is allocated exactly once, and a voided one
never."""

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import respx
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from billing import fulfilment, ledger
from billing.fulfilment_events import batch_order_apply
from billing.models import Allocation, ClimateOrderBatch, OffsetObligation
from tests.billing.climate_fixtures import (
    PRODUCT_ID,
    delivered,
    form,
    obligation_direct,
    order,
    product,
)
from tests.factories import AccountFactory
from tests.stripe_fixtures import STRIPE_API

_serial = itertools.count(1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.accounts = [AccountFactory(name=f"Ledger {next(_serial)}") for _ in range(3)]
        self.month = datetime(2026, 1, 10, tzinfo=UTC)
        self.voided_before_order: set[int] = set()
        self.creates = 0
        self.router = respx.mock(base_url=STRIPE_API, assert_all_called=False)
        self.router.__enter__()
        self.router.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
        self.router.post("/v1/climate/orders").mock(side_effect=self._create)

    def _create(self, request):
        self.creates += 1
        body = form(request)
        return httpx.Response(
            200,
            json=order(
                order_id=f"climorder_{next(_serial)}",
                metric_tons=body["metric_tons"],
                batch=body["metadata[batch]"],
            ),
        )

    def teardown(self):
        self.router.__exit__(None, None, None)
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(who=st.integers(0, 2), cents=st.integers(100, 200_000), day=st.integers(0, 20))
    def invoice_paid(self, who, cents, day):
        obligation_direct(
            account=self.accounts[who],
            invoice_id=f"in_{next(_serial)}",
            removal_cents=cents,
            paid_at=self.month + timedelta(days=day),
        )

    @rule(pick=st.integers(0, 1000), dispute=st.booleans())
    def invoice_reversed(self, pick, dispute):
        obligations = list(OffsetObligation.objects.order_by("pk"))
        if not obligations:
            return
        obligation = obligations[pick % len(obligations)]
        was_pending = obligation.state == "pending"
        ledger.obligation_reverse(
            obligation=obligation, reason="disputed" if dispute else "refunded"
        )
        if was_pending:
            self.voided_before_order.add(obligation.pk)

    @rule(again=st.booleans())
    def monthly_batch(self, again):
        period = f"{self.month:%Y-%m}"
        before = self.creates
        report = fulfilment.batch_run(period=period)
        if again:
            fulfilment.batch_run(period=period)  # a re-run never buys twice
        assert self.creates - before <= 1
        if report.obligations:
            end = fulfilment.period_end(period)
            assert not OffsetObligation.objects.filter(state="pending", paid_at__lt=end).exists()
        self.month = fulfilment.period_end(period) + timedelta(days=9)

    @precondition(lambda self: ClimateOrderBatch.objects.exclude(stripe_order_id="").exists())
    @rule(pick=st.integers(0, 100), cancel=st.booleans(), reason=st.booleans())
    def order_event(self, pick, cancel, reason):
        batches = list(ClimateOrderBatch.objects.exclude(stripe_order_id="").order_by("pk"))
        batch = batches[pick % len(batches)]
        base = order(
            order_id=batch.stripe_order_id,
            metric_tons=str(batch.metric_tons),
            batch=str(batch.public_id),
        )
        if cancel:
            reason_text = "product_unavailable" if reason else "requested"
            state = {**base, "status": "canceled", "cancellation_reason": reason_text}
        else:
            state = delivered(base)
        batch_order_apply(batch=batch, order=state)
        batch_order_apply(batch=batch, order=state)  # a replay changes nothing

    @invariant()
    def an_order_never_allocates_more_than_it_ordered(self):
        for batch in ClimateOrderBatch.objects.annotate(given=Sum("allocations__metric_tons")):
            assert (batch.given or 0) <= batch.metric_tons

    @invariant()
    def every_paid_obligation_is_allocated_once_and_a_voided_one_never(self):
        for obligation in OffsetObligation.objects.all():
            count = Allocation.objects.filter(obligation=obligation).count()
            if obligation.state in ("allocated", "netted"):
                assert count == 1
            else:
                assert count == 0
            if obligation.pk in self.voided_before_order:
                assert obligation.state == "void" and count == 0


def test_the_ledger_never_allocates_more_than_it_bought(db, stripe_settings):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
