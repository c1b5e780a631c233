"""The factories store rows exactly as the product does, so tests built on them prove real paths."""

from pathlib import Path

from connectors import crypto
from tests.factories import (
    PASSWORD,
    EstimateSourceFactory,
    ProjectionFactory,
    SubscriptionFactory,
    owner_of,
)
from tokenoffset.accounts.models import Role

TESTS = Path(__file__).resolve().parent


def test_a_source_holds_its_key_encrypted_and_bound_to_its_own_id(db):
    source = EstimateSourceFactory(key="sk-ant-admin01-" + "k" * 80 + "WXYZ")

    assert source.key_hint == "WXYZ"
    assert crypto.decrypt(bytes(source.key_ciphertext), source_public_id=source.public_id) == (
        "sk-ant-admin01-" + "k" * 80 + "WXYZ"
    )
    assert b"kkkk" not in bytes(source.key_ciphertext)


def test_an_owner_can_log_in_and_owns_only_that_account(client, account):
    user = owner_of(account, email="dana@example.org")

    assert client.login(email="dana@example.org", password=PASSWORD)
    assert [(m.account, m.role) for m in user.memberships.all()] == [(account, Role.OWNER)]


def test_a_projection_belongs_to_its_sources_account_through_a_succeeded_sample(account):
    projection = ProjectionFactory(source__account=account)

    assert projection.account == projection.sample.account == account
    assert projection.sample.status == "succeeded"
    assert projection.window_end == projection.sample.window_end


def test_a_live_subscription_is_what_the_webhooks_leave(account):
    subscription = SubscriptionFactory(account=account, live=True)

    assert subscription.is_live and subscription.unit_amount_cents == 199


def test_the_stripe_fixtures_are_defined_once():
    definers = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path != Path(__file__).resolve()
        for name in ("def stripe_api(", "def subscribed(", "def sign(")
        if name in path.read_text()
    )
    assert definers == ["stripe_fixtures.py"] * 3
