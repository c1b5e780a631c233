"""Each source says what its footprint counts, what is in its spend only, and roughly what share
of the spend that is; /docs/sources says the same per kind."""

from decimal import Decimal

from django.urls import reverse

from estimates import sampling
from estimates.models import Projection
from tests.dashboard.test_dashboard import make_projection, make_source
from tests.factories import EstimateSourceFactory

OPENAI_LEFT_OUT = {"share": "0.0700", "by_type": {"images": "0.0500", "audio": "0.0200"}}
SENTENCE = (
    "About 7% of what you paid OpenAI is for images and audio, which the footprint does not "
    "count yet."
)


def _openai_with_left_out(account):
    source = make_source(account, vendor="openai", label="Acme OpenAI")
    make_projection(source, spend=Decimal("100"))
    Projection.objects.filter(source=source).update(spend_left_out=OPENAI_LEFT_OUT)
    return source


def test_the_sources_list_says_what_is_counted_and_the_left_out_share(owner_client, account):
    _openai_with_left_out(account)
    html = owner_client.get(reverse("sources:list")).content.decode()
    assert "In the footprint: text generation (completions), embeddings, moderations." in html
    assert "In spend only: images, audio (speech, transcription)" in html
    assert SENTENCE in html


def test_the_dashboard_says_it_per_source_and_beside_the_spend(owner_client, account):
    _openai_with_left_out(account)
    html = owner_client.get(reverse("dashboard:home")).content.decode()
    assert SENTENCE in html
    assert (
        "Grounded in what you actually paid; about 7% of it (images, audio) is not in the "
        "footprint yet"
    ) in html


def test_an_anthropic_source_says_priority_tier_spend_is_missing(owner_client, account):
    source = make_source(account, vendor="anthropic", label="Acme Anthropic")
    make_projection(source, spend=Decimal("50"))
    Projection.objects.filter(source=source).update(
        spend_left_out={"share": "0", "by_type": {}, "tiers_without_spend_share": "0.1000"}
    )
    html = owner_client.get(reverse("sources:list")).content.decode()
    assert "Everything you paid Anthropic in the sampled window is for usage the footprint" in html
    assert "Priority Tier spend is not in Anthropic&#x27;s cost report" in html
    assert "About 10% of its tokens are on Priority Tier, whose spend is not reported." in html
    dashboard = owner_client.get(reverse("dashboard:home")).content.decode()
    assert "Grounded in what you actually paid</span>" in dashboard  # nothing left out


def test_a_kind_that_declares_nothing_shows_no_coverage_line(owner_client, account):
    source = EstimateSourceFactory(account=account, vendor="google", label="Gemini", key="x" * 40)
    make_projection(source, spend=Decimal("0"))
    html = owner_client.get(reverse("sources:list")).content.decode()
    assert "data-coverage" not in html


def test_docs_sources_lists_the_new_endpoints_and_each_kinds_coverage(client):
    html = client.get(reverse("public:sources")).content.decode()
    assert "/v1/organization/usage/embeddings" in html
    assert "/v1/organization/usage/moderations" in html
    assert "server_tool_use.web_search_requests" in html
    assert 'data-coverage="openai"' in html and 'data-coverage="anthropic"' in html
    assert "images, audio (speech, transcription), web and file search calls" in html
    assert "web search fees, code execution" in html
    assert "Priority Tier spend is not in Anthropic&#x27;s cost report" in html


def test_an_openai_sandbox_sample_finds_its_image_spend(request):
    source = request.getfixturevalue("make_source")("flat", vendor="openai")
    sample = sampling.sample_request(source=source, trigger="first")
    assert sampling.sample_run(sample_id=sample.pk).status == "succeeded"
    projection = Projection.objects.get(source=source)
    # $0.70 of images out of $9.785 a day.
    assert projection.spend_left_out == {"share": "0.0715", "by_type": {"images": "0.0715"}}
    assert projection.energy_spend_ratio is not None


def test_web_searches_are_summed_into_the_estimate_api_as_a_count(owner_client, account):
    for label, searches in (("One", 300), ("Two", 26)):
        source = make_source(account, vendor="anthropic", label=label)
        make_projection(source)
        Projection.objects.filter(source=source).update(monthly_web_search_requests=searches)
    body = owner_client.get(reverse("api_estimate")).json()
    assert body["estimate"]["monthly_web_search_requests"] == 326
    assert body["estimate"]["monthly_tokens"]["total"] == sum(
        v for k, v in body["estimate"]["monthly_tokens"].items() if k != "total"
    )
