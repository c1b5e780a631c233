"""The main journeys in a real browser: live server, a Celery worker, PostgreSQL, Redis, sandbox."""

import copy
import re

import pytest
from playwright.sync_api import Page, expect

from billing.models import Offset, OffsetChange
from billing.selectors import cents
from billing.services import offset_choose_band
from conftest import PASSWORD
from connectors.models import EstimateSource
from connectors.services import source_create
from estimates import sampling
from estimates.models import Sample, SampleStatus, SampleTrigger
from estimates.sampling import run as sampling_run
from estimates.selectors import account_estimate
from tokenoffset.accounts.models import User
from tokenoffset.dashboard.templatetags.people import usd

from .conftest import make_owner, sandbox_key

# Committed data: the live server and the worker read it from their own connections.
pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE_TASK = "estimates.tasks.sample_run_task"
AGENTIC = "$2.95"


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


@pytest.fixture
def sampled(sandbox):
    """An owner on the Agentic band with a sandbox source whose first sample succeeded."""
    user = make_owner("alice@example.org")
    account = user.memberships.get().account
    offset_choose_band(account=account, user=user, band_slug="agentic", expected_price_cents=295)
    source = source_create(
        account=account,
        user=user,
        vendor="anthropic",
        raw_key=sandbox_key("flat"),
        is_sandbox=True,
    )
    sample = sampling.sample_request(source=source, trigger=SampleTrigger.FIRST, user=user)
    assert sampling.sample_run(sample_id=sample.pk).status == SampleStatus.SUCCEEDED
    return user, account, source


def test_a_new_user_signs_up_and_picks_the_agentic_band(page, screenshot):
    page.goto("/auth/signup/")
    page.get_by_label("Email").fill("new@example.org")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Pick your monthly offset")).to_be_visible()
    screenshot(page, "01-dashboard-new-account")

    nav(page, "Billing")
    page.locator('#bands tr[data-band="agentic"]').get_by_role("link", name="Choose").click()
    expect(page.get_by_role("heading", name="Switch to the Agentic band")).to_be_visible()
    screenshot(page, "02-billing-confirm-band")
    page.get_by_role("button", name=f"Confirm {AGENTIC} a month").click()
    expect(page.get_by_role("status")).to_contain_text(f"Your offset is now {AGENTIC} a month")
    expect(page.locator("#offset .stat")).to_contain_text(AGENTIC)

    nav(page, "Dashboard")
    expect(page.locator(".offset .big-number")).to_have_text(f"{AGENTIC} / month")
    expect(page.locator(".offset")).to_contain_text("Agentic band")
    screenshot(page, "03-dashboard-agentic")
    offset = Offset.objects.get(account__memberships__user__email="new@example.org")
    assert (offset.kind, offset.band_slug, offset.price_cents) == ("band", "agentic", 295)


def test_an_owner_connects_a_sandbox_source_and_watches_the_first_sample(
    page, login, sandbox, celery_worker, screenshot, monkeypatch
):
    user = make_owner("alice@example.org")
    account = user.memberships.get().account
    progress_states = []
    progress_write = sampling_run.sample_progress

    def record_progress(sample, progress):
        if progress is not None:
            progress_states.append(copy.deepcopy(progress))
        progress_write(sample, progress)

    monkeypatch.setattr(sampling_run, "sample_progress", record_progress)
    login(user)
    page.goto("/")
    nav(page, "Estimate sources")
    page.get_by_role("main").get_by_role("link", name="Connect a source").first.click()

    # A standard key: the inline message explains admin keys, and nothing is stored.
    page.get_by_label("Anthropic").check()
    page.get_by_label("Sandbox (demo data)").check()
    page.get_by_label("Admin key", exact=True).fill(sandbox_key("standard"))
    page.get_by_role("button", name="Check and connect").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This looks like a standard API key")
    expect(alert).to_contain_text("create an Admin key in Console → Settings → Admin Keys")
    screenshot(page, "04-source-standard-key-refused")
    assert not EstimateSource.objects.filter(account=account).exists()

    # The slow admin key: connected, and the first sample is queued (no worker yet).
    page.get_by_label("Anthropic").check()
    page.get_by_label("Sandbox (demo data)").check()
    page.get_by_label("Admin key", exact=True).fill(sandbox_key("slow"))
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("status")).to_contain_text("The first sample runs in the background")
    source = EstimateSource.objects.get(account=account)
    row = page.locator(f'#sources tr[data-source="{source.public_id}"]')
    expect(row).to_contain_text(re.compile("Pending|Sampling"))
    screenshot(page, "05-source-connected")

    # The dashboard shows the progress state and polls; the worker starts only now.
    nav(page, "Dashboard")
    source_row = page.locator(f'#sources [data-source-id="{source.public_id}"]')
    expect(source_row).to_have_attribute("data-status", re.compile("pending|sampling"))
    expect(source_row.locator("[data-progress-text]")).to_be_visible()
    expect(page.get_by_text("Your first estimate is on its way.")).to_be_visible()
    screenshot(page, "06-dashboard-sampling")
    celery_worker.start()

    # The page reloads by itself when the sample is done: the estimate and the chart appear.
    expect(page.get_by_role("heading", name="Daily tokens")).to_be_visible(timeout=60_000)
    expect(source_row).to_have_attribute("data-status", "ready")
    estimate = account_estimate(account=account)
    expect(page.locator(".estimate .big-number")).to_contain_text(usd(estimate.price_usd))
    expect(page.locator("figure.chart svg")).to_be_visible()
    screenshot(page, "07-dashboard-estimate")

    assert celery_worker.finished == [(SAMPLE_TASK, "SUCCESS")]
    sample = Sample.objects.get(source=source)
    assert (sample.trigger, sample.status) == (SampleTrigger.FIRST, SampleStatus.SUCCEEDED)
    distinct = [s for i, s in enumerate(progress_states) if s not in progress_states[:i]]
    assert len(distinct) >= 2, progress_states
    assert distinct[0]["reports"]["usage"]["pages_done"] == 0
    assert distinct[-1]["reports"]["usage"]["pages_done"] >= 1


def test_an_owner_adopts_the_estimate(page, login, sampled, screenshot):
    user, account, _ = sampled
    estimate = account_estimate(account=account)
    price = usd(estimate.price_usd)
    assert price != AGENTIC
    login(user)
    page.goto("/")
    adopt = page.locator("[data-adopt]")
    expect(adopt).to_contain_text(f"Your latest estimate comes to {price} a month")
    adopt.get_by_role("link", name="Review and adopt").click()
    expect(page.get_by_role("heading", name="Adopt the estimate")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Now "))).to_contain_text(AGENTIC)
    screenshot(page, "08-billing-confirm-estimate")
    page.get_by_role("button", name=f"Confirm {price} a month").click()

    expect(page.get_by_role("status")).to_contain_text(f"Your offset is now {price} a month")
    expect(page.locator("#offset .stat")).to_contain_text(price)
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(2)
    expect(history.filter(has_text=f"{AGENTIC} → {price}")).to_have_count(1)
    expect(history.filter(has_text=f"— → {AGENTIC}")).to_have_count(1)
    screenshot(page, "09-billing-estimate-adopted")
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.price_cents) == ("estimate", cents(estimate.price_usd))


def test_resampling_runs_a_new_sample_and_the_billed_price_stays(
    page, login, sampled, celery_worker, screenshot
):
    user, account, source = sampled
    changes_before = OffsetChange.objects.filter(account=account).count()
    login(user)
    page.goto("/")
    nav(page, "Estimate sources")
    row = page.locator(f'#sources tr[data-source="{source.public_id}"]')
    # The first sample does not count toward the manual limit: re-sampling is allowed at once.
    row.get_by_role("button", name="Re-sample").click()
    expect(page.get_by_role("status")).to_contain_text(f"Sampling {source.label} now.")
    # Queued (no worker yet): the button is disabled until the sample has run.
    expect(row.get_by_role("button", name="Re-sample")).to_be_disabled()
    screenshot(page, "10-sources-resampling")

    celery_worker.start()
    assert celery_worker.wait_for(SAMPLE_TASK) == ["SUCCESS"]
    samples = Sample.objects.filter(source=source).order_by("created_at")
    assert [(s.trigger, s.status) for s in samples] == [
        (SampleTrigger.FIRST, SampleStatus.SUCCEEDED),
        (SampleTrigger.MANUAL, SampleStatus.SUCCEEDED),
    ]

    nav(page, "Dashboard")
    expect(page.locator(f'#sources [data-source-id="{source.public_id}"]')).to_have_attribute(
        "data-status", "ready"
    )
    expect(page.locator(".offset .big-number")).to_have_text(f"{AGENTIC} / month")
    expect(page.locator("[data-adopt]")).to_be_visible()  # the new estimate is only offered
    screenshot(page, "11-dashboard-after-resample")
    nav(page, "Billing")
    expect(page.locator("#offset .stat")).to_contain_text(AGENTIC)
    expect(page.locator("#history tbody tr")).to_have_count(changes_before)
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.price_cents) == ("band", 295)
    assert OffsetChange.objects.filter(account=account).count() == changes_before


def test_another_account_cannot_open_the_first_accounts_source_or_billing_pages(
    page, login, client, sampled, screenshot
):
    _, account, source = sampled
    change = OffsetChange.objects.get(account=account)
    urls = [
        f"/sources/{source.public_id}/replace/",
        f"/sources/{source.public_id}/rename/",
        f"/billing/changes/{change.public_id}/",
    ]
    client.force_login(User.objects.get(email="alice@example.org"))
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]

    login(make_owner("mallory@example.org"))
    for url in urls:
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(page, "12-other-account-404")

    page.goto("/sources/")
    expect(page.get_by_text(source.label)).to_have_count(0)
    page.goto("/billing/")
    expect(page.locator("#history")).to_contain_text("No changes yet.")
