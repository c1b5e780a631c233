"""The public pages: methodology from the coefficient tables in force, sources, privacy."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from estimates.coefficients import coefficient_set_active
from estimates.models import Coefficient, CoefficientSet


def page(client, name: str) -> str:
    """The page's HTML with runs of whitespace collapsed, so phrases match across lines."""
    response = client.get(reverse(name))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def row(html: str, marker: str) -> str:
    return re.search(rf'{re.escape(marker)}".*?</tr>', html, re.S).group(0)


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        ("public:methodology", "/docs/methodology", "How we estimate your AI footprint"),
        ("public:sources", "/docs/sources", "Estimate sources: what we call and what we keep"),
        ("public:privacy", "/privacy", "Privacy"),
    ],
)
def test_each_page_renders_for_anonymous_visitors(client, db, name, path, heading):
    assert reverse(name) == path
    html = page(client, name)
    assert f"<h1>{heading}</h1>" in html
    # Linked from every page's footer.
    for link in ("/docs/methodology", "/docs/sources", "/privacy"):
        assert f'href="{link}"' in html


def test_the_footer_links_are_on_signed_in_pages_too(owner_client):
    html = page(owner_client, "dashboard:home")
    assert 'href="/docs/methodology"' in html and 'href="/privacy"' in html


def test_methodology_shows_the_coefficients_in_force_with_ranges_and_sources(client, db):
    html = page(client, "public:methodology")
    large = row(html, 'data-coefficient="class_energy:large')
    assert "<strong>1,000</strong>" in large and "500–2,600" in large
    assert 'href="#ref-' in large
    cache_read = row(html, 'data-coefficient="token_weight:cache_read')
    assert "<strong>0.02</strong>" in cache_read and "0.005–0.05" in cache_read
    assert "Cache reads are our least certain number" in html
    pue = row(html, 'data-coefficient="vendor:pue')
    assert all(v in pue for v in ("1.14", "1.2", "1.09"))
    assert 'href="https://arxiv.org/abs/2505.09598"' in html  # a cited paper, linked
    # The formula carries the weights of the set in force.
    assert "0.2 × uncached input" in html


def test_methodology_shows_a_staff_edit_of_a_coefficient(client, db):
    active = coefficient_set_active()
    Coefficient.objects.filter(coefficient_set=active, group="class_energy", name="large").update(
        value=Decimal("1234.5"), low=Decimal("600")
    )
    Coefficient.objects.filter(
        coefficient_set=active, group="token_weight", name="cache_read"
    ).update(value=Decimal("0.03"))
    html = page(client, "public:methodology")
    large = row(html, 'data-coefficient="class_energy:large')
    assert "<strong>1,234.5</strong>" in large and "600–2,600" in large
    assert "0.03 × cache reads" in html


def test_methodology_shows_the_band_volumes_and_prices(client, db):
    html = page(client, "public:methodology")
    table = re.search(r'<table class="table" id="band-table">.*?</table>', html, re.S).group(0)
    prices = re.findall(r"<strong>(\$[\d.,]+)</strong>", table)
    assert prices == ["$1.99", "$1.99", "$2.95", "$32.74"]
    worker = row(table, 'data-band="worker')
    assert "1M–20M" in worker and "3M" in worker and "15% / 40% / 5% / 40%" in worker
    assert "the surplus funds extra carbon removal" in html


def test_methodology_renders_the_projection_method(client, db):
    html = page(client, "public:methodology")
    assert "<strong>Start at your first usage.</strong>" in html
    assert "<strong>A trend only when it is clear.</strong>" in html
    assert "<strong>A new level once it has held.</strong>" in html
    assert "<pre><code>monthly = average of max(0, level + slope × weeks)" in html
    assert "<em>preliminary</em>" in html


def test_methodology_lists_every_coefficient_set_and_the_sanity_anchors(client, db):
    CoefficientSet.objects.create(version="v2-draft", notes="Lower cache-read weight <draft>")
    html = page(client, "public:methodology")
    history = re.search(r'id="history".*?</table>', html, re.S).group(0)
    assert "in force" in row(history, 'data-version="v2')
    assert "in force" not in row(history, 'data-version="v1')
    v2 = row(history, 'data-version="v2-draft')
    assert "not activated" in v2 and "Lower cache-read weight &lt;draft&gt;" in v2
    assert "0.24 Wh" in html and "0.34 Wh" in html
    assert "<strong>0.48 Wh</strong>" in html  # computed from the set in force


def test_methodology_survives_without_an_active_set(client, db):
    CoefficientSet.objects.update(is_active=False)
    html = page(client, "public:methodology")
    assert "being updated" in html
    assert "<strong>Start at your first usage.</strong>" in html


def test_the_sources_page_lists_the_exact_endpoints(client, db):
    html = page(client, "public:sources")
    for endpoint in (
        "/v1/organizations/me",
        "/v1/organizations/usage_report/messages",
        "/v1/organizations/cost_report",
        "/v1/organization/usage/completions",
        "/v1/organization/costs",
    ):
        assert f'<dt class="endpoint"><span class="method">GET</span>{endpoint}</dt>' in html
    assert html.count("<code>bucket_width=1d</code>") == 2
    for group in ("model", "service_tier", "context_window", "batch", "description", "line_item"):
        assert f"<code>{group}</code>" in html
    assert "AES-256-GCM" in html
    assert "<code>api.usage.read</code>" in html
    assert "Every Sunday from 08:00 UTC" in html
    assert "at most once every 5 minutes" in html
    assert "Never prompts or completions." in html


def test_the_sources_page_says_what_is_not_covered_and_why(client, db):
    html = page(client, "public:sources")
    for product in (
        "Claude.ai chat",
        "Claude Code used on a subscription",
        "ChatGPT Free, Plus, Pro and Team",
        "Codex CLI or IDE used on a ChatGPT plan",
        "Gemini Advanced",
        "personal AI Studio usage",
        "Personal and Pro Cursor seats",
    ):
        assert product in html
    soon = html[html.index('id="coming-soon"') :]
    assert "Coming soon" in soon and "Live telemetry" in soon and "Local logs" not in soon
    local = html[html.index('id="local-logs"') : html.index('id="coming-soon"')]
    assert "Never prompts, completions" in local and "cleanupPeriodDays" in local
    assert "Cursor" not in soon and "Gemini" not in soon
    assert "Enterprise teams only" in html  # Cursor's limit
    assert "BigQuery" in html  # why Google's spend is not reported


def test_the_sources_page_documents_what_cursor_and_google_read_store_and_cannot_see(client, db):
    html = page(client, "public:sources")
    cursor = html[html.index('data-vendor="cursor"') : html.index('id="google"')]
    google = html[html.index('data-vendor="google"') : html.index('id="stored"')]
    for method, endpoint in (("GET", "/teams/members"), ("POST", "/teams/filtered-usage-events")):
        assert f'<span class="method">{method}</span>{endpoint}</dt>' in cursor
    for field in ("inputTokens", "cacheReadTokens", "cacheWriteTokens", "outputTokens"):
        assert f"<code>{field}</code>" in cursor
    assert "<code>chargedCents</code>" in cursor and "HTTP Basic" in cursor
    assert '<span class="method">POST</span>https://oauth2.googleapis.com/token</dt>' in google
    assert "/v3/projects/{project}/timeSeries</dt>" in google
    for metric in (
        "aiplatform.googleapis.com/publisher/online_serving/token_count",
        "generativelanguage.googleapis.com/generate_content_usage_output_token_count",
        "generativelanguage.googleapis.com/quota/generate_content_free_tier_input_token_count/usage",
    ):
        assert f"<code>{metric}</code>" in google
    assert "<code>token_uri</code> inside an uploaded JSON is ignored" in google
    assert "<code>roles/monitoring.viewer</code>" in google
    assert "No cache split" in google and "No spend" in google
    keys = html[html.index('id="keys"') : html.index('id="cadence"')]
    assert "<code>private_key</code>" in keys and "one encrypted credential" in keys


def test_the_privacy_page_states_retention_uses_and_de_identification(client, db):
    html = page(client, "public:privacy")
    assert "Daily usage and cost rows: 13 months" in html
    assert "Keys: until you remove the source" in html
    assert "fewer than 5 accounts is suppressed" in html
    assert "We never receive prompts or completions" in html
    assert html.count("<li><strong>") >= 3


def test_the_methodology_page_explains_every_step_of_the_projection(client, db):
    html = page(client, "public:methodology")
    method = re.search(r'id="projection".*?</section>', html, re.S).group(0)
    assert method.count("<li ") == 8
    assert "**" not in method


def test_the_methodology_page_shows_the_backtest_from_the_backtest_code(client, db):
    from estimates import backtest

    html = page(client, "public:methodology")

    table = re.search(r'<table class="backtest">.*?</table>', html, re.S).group(0)
    rows = backtest.run()
    assert table.count("<tr data-pattern=") == len(rows)
    stop = row(table, 'data-pattern="stop" data-noise="0.0')
    assert "<strong>0%</strong>" in stop  # projected at zero, exactly
    previous = next(r for r in rows if r.pattern == "stop" and r.noise == 0)
    assert f"{previous.errors['previous'] * 100:.1f}%" in stop
    assert backtest.METHOD_VERSION in html


def test_the_backtest_runs_once_per_method_version(client, db, monkeypatch):
    from estimates import backtest

    page(client, "public:methodology")
    monkeypatch.setattr(backtest, "run", lambda: pytest.fail("ran again"))

    assert "data-pattern=" in page(client, "public:methodology")


def test_methodology_says_the_models_maker_decides_whose_overheads_apply(client, db):
    html = page(client, "public:methodology")
    maker = html[html.index("data-maker") : html.index("</p>", html.index("data-maker"))]
    assert "<strong>maker of the model</strong>" in maker
    assert "<code>claude-4.5-sonnet</code> takes Anthropic's" in maker
    assert "<code>composer-1</code>" in maker
    large = row(html, 'data-coefficient="class_energy:large')
    assert "Gemini Pro" in large and "composer-1" in large
    assert "Gemini Flash-Lite" in row(html, 'data-coefficient="class_energy:small')
