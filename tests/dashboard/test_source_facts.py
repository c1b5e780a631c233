"""What each kind of source can report, shown where people read its figures: a kind without a
spend report says "spend: not reported" and is left out of the projected spend; a kind's
notes (e.g. "no cache split reported") and its `sees` sentence come from the registry."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.urls import reverse

from connectors import registry
from connectors.interface import Connector, Delivery, Report, SourceKind
from tests.billing.helpers import make_projection
from tests.factories import EstimateSourceFactory

NO_SPEND = Connector(
    id="google",
    name="Google",
    kind=SourceKind.SERVICE_ACCOUNT,
    delivery=Delivery.PULLED,
    sees="Gemini API and Vertex AI token counts per model and day from Cloud Monitoring.",
    usage=Report(fetch=lambda *a, **k: [], max_days=90),
    notes="no cache split reported",
)


@pytest.fixture
def google_registered(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "google", NO_SPEND)
    return NO_SPEND


@pytest.fixture
def sources(account, google_registered):
    anthropic = EstimateSourceFactory(
        account=account, vendor="anthropic", label="Acme", status="ready"
    )
    google = EstimateSourceFactory(
        account=account,
        vendor="google",
        kind="service_account",
        label="Gemini prod",
        key="{}",
        status="ready",
    )
    for source, spend in ((anthropic, "120.50"), (google, "0")):
        projection = make_projection(source)
        projection.provider_spend_usd = Decimal(spend)
        projection.save()
    return anthropic, google


def source_item(html: str, source) -> str:
    start = html.index(f'data-source-id="{source.public_id}"')
    return html[start : html.index("</li>", start)]


def test_a_connector_declares_no_notes_unless_it_has_some():
    assert registry.get("anthropic").notes == ""
    assert replace(registry.get("anthropic"), notes="x").notes == "x"


def test_the_dashboard_says_which_source_reports_no_spend(owner_client, sources):
    anthropic, google = sources
    html = " ".join(owner_client.get(reverse("dashboard:home")).content.decode().split())

    assert "spend: not reported" in source_item(html, google)
    assert "no cache split reported" in source_item(html, google)
    assert "spend: not reported" not in source_item(html, anthropic)
    assert "spend $120.50/month" in source_item(html, anthropic)
    assert "Excludes Gemini prod: spend not reported" in html


def test_an_account_whose_sources_all_report_spend_gets_no_exclusion_note(owner_client, account):
    make_projection(EstimateSourceFactory(account=account, vendor="anthropic", status="ready"))
    html = owner_client.get(reverse("dashboard:home")).content.decode()
    assert "data-spend-excludes" not in html and "spend: not reported" not in html


def test_the_sources_list_says_spend_not_reported_and_the_kinds_notes(owner_client, sources):
    anthropic, google = sources
    html = owner_client.get(reverse("sources:list")).content.decode()

    def row(source):
        start = html.index(f'data-source="{source.public_id}"')
        return html[start : html.index("</tr>", start)]

    assert "spend: not reported" in row(google) and "no cache split reported" in row(google)
    assert "spend: not reported" not in row(anthropic)


def test_the_connect_page_shows_what_each_option_can_see(owner_client, account):
    html = owner_client.get(reverse("sources:add")).content.decode()
    for connector_id in ("anthropic", "openai"):
        sees = registry.get(connector_id).sees
        assert f'data-sees="{connector_id}">{sees}</span>' in html


def test_the_dashboard_reads_sources_facts_without_a_query_per_source(
    owner_client, sources, account, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40) as few:
        owner_client.get(reverse("dashboard:home"))
    for _ in range(5):
        make_projection(EstimateSourceFactory(account=account, vendor="google", key="{}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(reverse("dashboard:home"))
