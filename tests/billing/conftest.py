import pytest
import respx

from billing import stripe_client
from billing.models import Subscription

from .helpers import STRIPE_API, WEBHOOK_SECRET


@pytest.fixture
def stripe_settings(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_not_a_real_key"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PRODUCT_ID = "prod_test"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.SITE_URL = "https://tokenoffset.test"
    stripe_client._product_id_cache.clear()
    return settings


@pytest.fixture
def stripe_api(stripe_settings):
    """Stripe's HTTP, mocked: any unmocked request fails the test."""
    with respx.mock(base_url=STRIPE_API, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def subscribed(account):
    """The account with a live subscription, as the webhooks would have left it."""
    return Subscription.objects.create(
        account=account,
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
        stripe_item_id="si_1",
        status="active",
        unit_amount_cents=199,
    )
