"""Account settings → Your data: the export, and deleting the account."""

import base64
import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal

import httpx
import pytest
from django.core import mail

from billing import stripe_client
from billing.models import Offset, OffsetChange, StripeCleanup, Subscription
from billing.services import offset_choose_band, offset_set_custom
from connectors.models import EstimateSource, KeyEvent, KeyEventKind
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from tests.factories import (
    DailyUsageFactory,
    EstimateSourceFactory,
    MembershipFactory,
    ProjectionFactory,
    SubscriptionFactory,
)
from tests.stripe_fixtures import customer_closing_routes
from tokenoffset.accounts.models import Account, Invitation, Membership, Role, User
from tokenoffset.dashboard.lifecycle import account_export

SECRET_KEY = "sk-ant-admin01-" + "S3cr3tV4lue" * 6 + "-wxyz"


def make_keyed_source(account, *, label="Acme org", key=SECRET_KEY) -> EstimateSource:
    """A source stored as the add flow stores it, with the key event the add flow records."""
    source = EstimateSourceFactory(account=account, label=label, key=key)
    KeyEvent.objects.create(
        account=account,
        source=source,
        source_public_id=source.public_id,
        source_label=label,
        vendor="anthropic",
        key_hint=key[-4:],
        kind=KeyEventKind.ADDED,
    )
    return source


def add_daily_rows(source, *, model="claude-sonnet-4-5", day=date(2025, 3, 1)):
    DailyUsageFactory(source=source, date=day, model=model, uncached_input=1200, output=340)
    DailyCost.objects.create(
        account=source.account,
        source=source,
        date=day,
        description=f"{model} usage",
        dimensions={"model": model},
        dimensions_key=model,
        amount_usd=Decimal("1.23456789"),
    )


@pytest.fixture
def filled(account, owner):
    """Alice's account with a source, daily rows, a projection, an offset and its history."""
    source = make_keyed_source(account)
    add_daily_rows(source)
    ProjectionFactory(source=source)
    offset_set_custom(account=account, user=owner, amount_cents=500)
    offset_choose_band(account=account, user=owner, band_slug="worker", expected_price_cents=199)
    return source


BOBS_CENTS = 98_765  # a number no UUID or timestamp of the export can hold as a whole word


@pytest.fixture
def bobs_data(other_account, other_owner):
    source = make_keyed_source(other_account, label="Bob secret org", key=SECRET_KEY[:-4] + "bobk")
    add_daily_rows(source, model="bob-private-model")
    ProjectionFactory(source=source)
    offset_set_custom(account=other_account, user=other_owner, amount_cents=BOBS_CENTS)
    return source


def export_url(account, kind="json"):
    return f"/account/{account.public_id}/export.{kind}"


def delete_url(account):
    return f"/account/{account.public_id}/delete/"


# --- Export -------------------------------------------------------------------------------


def test_the_settings_page_offers_export_and_delete_to_owners(owner_client, account):
    body = owner_client.get("/account/").content.decode()
    assert export_url(account) in body and delete_url(account) in body


def test_members_see_no_export_or_delete_and_cannot_use_them(member_client, account):
    body = member_client.get("/account/").content.decode()
    assert export_url(account) not in body and delete_url(account) not in body
    assert member_client.get(export_url(account)).status_code == 403
    assert member_client.get(export_url(account, "zip")).status_code == 403
    assert member_client.post(delete_url(account), {"name": account.name}).status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()


def test_the_json_export_is_an_attachment_with_everything_the_account_holds(
    owner_client, account, owner, member, filled
):
    response = owner_client.get(export_url(account))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="tokenoffset-export-'
    ) and response["Content-Disposition"].endswith('.json"')
    data = json.loads(response.content)
    assert data["account"] == {
        "id": str(account.public_id),
        "name": "Alice Labs",
        "created_at": data["account"]["created_at"],
    }
    assert {(m["email"], m["role"]) for m in data["members"]} == {
        ("alice@example.org", "owner"),
        ("charlie@example.org", "member"),
    }
    [source] = data["sources"]
    assert source["public_id"] == str(filled.public_id)
    assert source["key_hint"] == "wxyz" and source["label"] == "Acme org"
    assert len(data["samples"]) == 1 and len(data["projections"]) == 1
    assert data["projections"][0]["monthly_tokens"]["output"] == 500
    [usage] = data["daily_usage"]
    assert (usage["date"], usage["uncached_input"], usage["output"]) == ("2025-03-01", 1200, 340)
    assert usage["source_public_id"] == str(filled.public_id)
    assert data["daily_costs"][0]["amount_usd"] == "1.23456789"
    assert data["offset"]["kind"] == "band" and data["offset"]["price_cents"] == 199
    assert [c["to_price_cents"] for c in data["offset_history"]] == [500, 199]
    assert data["offset_history"][1]["chosen_by_email"] == "alice@example.org"
    assert [e["kind"] for e in data["key_events"]] == ["added"]


def test_the_export_holds_no_key_and_no_ciphertext(owner_client, account, filled):
    ciphertext = bytes(EstimateSource.objects.get(pk=filled.pk).key_ciphertext)
    body = owner_client.get(export_url(account)).content
    archive = owner_client.get(export_url(account, "zip")).content
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        csvs = b"".join(z.read(name) for name in z.namelist())

    for blob in (body, csvs):
        assert SECRET_KEY.encode() not in blob
        assert SECRET_KEY[:-4].encode() not in blob  # not even the part before the hint
        assert b"ciphertext" not in blob
        assert ciphertext not in blob
        assert base64.b64encode(ciphertext) not in blob
        assert ciphertext.hex().encode() not in blob
    assert "key_ciphertext" not in json.dumps(account_export(account=account), default=str)


def test_the_export_never_holds_another_accounts_data(owner_client, account, filled, bobs_data):
    body = owner_client.get(export_url(account)).content.decode()
    with zipfile.ZipFile(io.BytesIO(owner_client.get(export_url(account, "zip")).content)) as z:
        csvs = "".join(z.read(name).decode() for name in z.namelist())

    for text in (body, csvs):
        assert "Bob" not in text and "bob@example.org" not in text
        assert str(bobs_data.public_id) not in text
        assert "bob-private-model" not in text
        assert not re.search(rf"\b{BOBS_CENTS}\b", text)  # Bob's custom amount
    data = json.loads(body)
    assert len(data["sources"]) == len(data["daily_usage"]) == len(data["projections"]) == 1


def test_the_csv_export_is_a_zip_of_one_csv_per_section(owner_client, account, filled):
    response = owner_client.get(export_url(account, "zip"))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="tokenoffset-export-' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        names = set(z.namelist())
        usage = z.read("daily_usage.csv").decode().splitlines()
        costs = z.read("daily_costs.csv").decode().splitlines()
    assert {"daily_usage.csv", "daily_costs.csv", "sources.csv", "offset_history.csv"} <= names
    assert usage[0].startswith("date,model,service_tier") and len(usage) == 2
    assert "2025-03-01,claude-sonnet-4-5" in usage[1]
    assert "1.23456789" in costs[1] and '"{""model"": ""claude-sonnet-4-5""}"' in costs[1]


def test_other_account_gets_404(other_client, account, filled):
    assert other_client.get(export_url(account)).status_code == 404
    assert other_client.get(export_url(account, "zip")).status_code == 404
    assert other_client.get(delete_url(account)).status_code == 404
    assert other_client.post(delete_url(account), {"name": "Alice Labs"}).status_code == 404
    assert Account.objects.filter(pk=account.pk).exists()
    assert EstimateSource.objects.filter(pk=filled.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, account):
    response = client.get(export_url(account))
    assert response.status_code == 302 and "/auth/login/" in response.url


# --- Delete -------------------------------------------------------------------------------


def test_the_delete_page_asks_for_the_accounts_name(owner_client, account):
    response = owner_client.get(delete_url(account))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Type the account&#x27;s name to confirm" in body and "Alice Labs" in body


def test_a_wrong_name_keeps_everything(owner_client, account, owner, filled):
    response = owner_client.post(delete_url(account), {"name": "alice labs"})

    assert response.status_code == 400
    assert "That is not this account&#x27;s name; nothing was deleted." in response.content.decode()
    assert Account.objects.filter(pk=account.pk).exists()
    assert EstimateSource.objects.filter(pk=filled.pk).exists()
    assert DailyUsage.objects.filter(account=account).count() == 1
    assert Offset.objects.filter(account=account).exists()


def test_deleting_erases_the_account_and_its_data_but_keeps_the_people(
    owner_client, account, owner, member, filled, bobs_data
):
    Invitation.objects.create(account=account, email="dave@example.org", token_hash="t" * 64)

    response = owner_client.post(delete_url(account), {"name": "Alice Labs"})

    assert response.status_code == 302 and response.url == "/account/goodbye/"
    assert not Account.objects.filter(pk=account.pk).exists()
    for model in (EstimateSource, Sample, DailyUsage, DailyCost, Projection, KeyEvent):
        assert not model.objects.filter(account_id=account.pk).exists(), model
    for model in (Offset, OffsetChange, Membership, Invitation):
        assert not model.objects.filter(account_id=account.pk).exists(), model
    # The people stay (they may belong to other accounts); Bob's account is untouched.
    assert User.objects.filter(pk__in=[owner.pk, member.pk]).count() == 2
    assert EstimateSource.objects.filter(pk=bobs_data.pk).exists()
    assert DailyUsage.objects.filter(source=bobs_data).count() == 1
    assert Offset.objects.get(account__name="Bob Studio").price_cents == BOBS_CENTS
    # The owner was told, and is logged out onto the goodbye page.
    assert mail.outbox[-1].subject == "[Token Offset] Alice Labs was deleted"
    assert mail.outbox[-1].to == ["alice@example.org"]
    page = owner_client.get("/account/goodbye/")
    assert page.status_code == 200 and "Your account was deleted" in page.content.decode()
    assert owner_client.get("/billing/").status_code == 302  # logged out


def test_an_owner_with_another_account_lands_in_it(owner_client, account, owner, other_account):
    MembershipFactory(account=other_account, user=owner, role=Role.MEMBER)

    response = owner_client.post(delete_url(account), {"name": "Alice Labs"}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    body = response.content.decode()
    assert "Alice Labs was deleted. You are now in Bob Studio." in body
    assert not Account.objects.filter(pk=account.pk).exists()


# --- Delete with Stripe -------------------------------------------------------------------


def test_deleting_deletes_the_stripe_customer_which_cancels_its_subscriptions(
    stripe_api, owner_client, account, subscribed, filled, django_capture_on_commit_callbacks
):
    sessions, delete = customer_closing_routes(stripe_api)
    cancel = stripe_api.delete("/v1/subscriptions/sub_1")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(delete_url(account), {"name": "Alice Labs"})

    assert response.status_code == 302
    assert sessions.called and delete.call_count == 1 and not cancel.called
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Subscription.objects.filter(pk=subscribed.pk).exists()
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is not None


def test_when_stripe_is_down_the_account_is_still_deleted_and_the_cleanup_waits(
    stripe_api, owner_client, account, subscribed, filled, django_capture_on_commit_callbacks
):
    customer_closing_routes(stripe_api, status=500)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(delete_url(account), {"name": "Alice Labs"})

    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not EstimateSource.objects.filter(pk=filled.pk).exists()
    cleanup = StripeCleanup.objects.get(stripe_id="cus_1")
    assert cleanup.done_at is None and "Stripe is down" in cleanup.last_error


def test_an_ended_subscription_is_not_cancelled_again(
    stripe_api, owner_client, account, django_capture_on_commit_callbacks
):
    SubscriptionFactory(account=account, stripe_subscription_id="sub_1", status="canceled")
    _, delete = customer_closing_routes(stripe_api)

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(delete_url(account), {"name": "Alice Labs"})

    assert delete.call_count == 1
    assert not [c for c in stripe_api.calls if "/v1/subscriptions" in str(c.request.url)]
    assert not Account.objects.filter(pk=account.pk).exists()


def test_without_a_subscription_stripe_is_not_called(
    stripe_api, owner_client, account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(delete_url(account), {"name": "Alice Labs"})
    assert not stripe_api.calls
    assert not StripeCleanup.objects.exists()
    assert not Account.objects.filter(pk=account.pk).exists()


def test_stripe_cancel_failures_surface_as_payments_errors(stripe_api):
    stripe_api.delete("/v1/subscriptions/sub_x").mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(stripe_client.PaymentsError):
        stripe_client.subscription_cancel(subscription_id="sub_x", idempotency_key="k")
