"""First visit to first adoption, in a real browser: the front page, the first estimate adopted
from the dashboard, and the calculator (with Anthropic's count_tokens answered by a stand-in)."""

import json

import pytest
from playwright.sync_api import Page, expect

from billing.models import Offset
from conftest import PASSWORD
from connectors.services import source_create
from estimates import sampling
from estimates.models import SampleStatus, SampleTrigger
from estimates.selectors import account_estimate
from tokenoffset.dashboard.templatetags.people import usd

from .conftest import make_owner, sandbox_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_reads_the_front_page_and_signs_up(page: Page, screenshot):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Offset the energy")
    expect(page.locator('#bands [data-band="agentic"]')).to_contain_text("$2.95")
    expect(page.locator("#example")).to_contain_text("kWh")
    screenshot(page, "10-front-page")

    page.locator("main").get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill("visitor@example.org")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Pick your monthly offset")).to_be_visible()


def test_a_new_user_adopts_the_first_estimate_from_the_dashboard_in_one_confirmation(
    page: Page, login, sandbox, screenshot
):
    user = make_owner("first@example.org")
    account = user.memberships.get().account
    source = source_create(
        account=account, user=user, vendor="anthropic", raw_key=sandbox_key("flat"),
        is_sandbox=True,
    )  # fmt: skip
    sample = sampling.sample_request(source=source, trigger=SampleTrigger.FIRST, user=user)
    assert sampling.sample_run(sample_id=sample.pk).status == SampleStatus.SUCCEEDED
    price = usd(account_estimate(account=account).price_usd)

    login(user)
    page.goto("/")
    adopt = page.get_by_role("link", name=f"Adopt your estimate — {price} / month")
    expect(adopt).to_be_visible()
    screenshot(page, "11-dashboard-first-estimate")
    adopt.click()
    page.get_by_role("button", name=f"Confirm {price} a month").click()

    expect(page.locator("#offset .stat")).to_contain_text(price)
    page.goto("/")
    expect(page.locator(".offset .big-number")).to_have_text(f"{price} / month")
    expect(page.get_by_role("link", name=f"Adopt your estimate — {price} / month")).to_have_count(0)
    offset = Offset.objects.get(account=account)
    assert offset.kind == "estimate" and usd(offset.price_usd) == price


def test_the_calculator_reproduces_the_worked_check_and_keeps_the_key_in_the_browser(
    page: Page, screenshot
):
    to_us, to_anthropic = [], []
    page.on("request", lambda r: to_us.append(r) if "127.0.0.1" in r.url else None)

    def count_tokens(route):
        to_anthropic.append(route.request)
        route.fulfill(
            status=200,
            headers={"access-control-allow-origin": "*", "content-type": "application/json"},
            body=json.dumps({"input_tokens": 1234}),
        )

    page.route("https://api.anthropic.com/**", count_tokens)
    page.goto("/calculator")
    page.get_by_label("Model").fill("claude-opus-4-6")
    page.get_by_label("Tokens a month").fill("100000000")
    page.get_by_role("button", name="Fill the four types").click()
    page.get_by_role("button", name="Calculate").click()
    expect(page.locator('[data-field="price_usd"]')).to_have_text("$2.88")
    expect(page.locator('[data-field="energy_kwh"]')).to_have_text("19.836 kWh")
    expect(page.locator('[data-field="model_class"]')).to_have_text("frontier")
    screenshot(page, "12-calculator-worked-check")

    key = "sk-ant-api03-" + "canary" * 8
    page.get_by_label("Your Anthropic API key").fill(key)
    page.get_by_role("textbox", name="Prompt").fill("How much energy does this prompt use?")
    page.get_by_role("button", name="Count input tokens").click()
    expect(page.locator("#count-result")).to_contain_text("1,234 input tokens")
    assert len(to_anthropic) == 1 and to_anthropic[0].headers["x-api-key"] == key

    page.get_by_role("button", name="Calculate").click()
    expect(page.locator('[data-field="price_usd"]')).not_to_have_text("$2.88")
    for request in to_us:
        assert key not in request.url and key not in (request.post_data or "")
        assert key not in json.dumps(request.headers)


@pytest.mark.parametrize(
    ("key", "vendor"),
    [("sk-ant-admin01-abc", "Anthropic"), ("sk-admin-abc", "OpenAI"), ("sk-proj-abc", "OpenAI")],
)
def test_the_connect_form_preselects_the_vendor_from_the_pasted_key(page: Page, login, key, vendor):
    login(make_owner("paste@example.org"))
    page.goto("/sources/add/")
    page.get_by_label("Admin key", exact=True).fill(key)
    expect(page.get_by_label(vendor, exact=True)).to_be_checked()
