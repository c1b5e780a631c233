"""Daily totals sent from a browser: strict validation, one message per refusal, then storage.

The body is the one the page builds (static/js/local-logs-parser.js); nothing is stored unless
all of it passes, and a re-send replaces only its own tool's, computer's and sender's days.
"""

import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from connectors.local_logs import schema
from connectors.models import EstimateSource
from estimates.models import DailyUsage, PushedSource, Sample, SampleTrigger
from tests.factories import EstimateSourceFactory

TODAY = "2026-11-21T10:00:00Z"
URL = "/sources/local/upload"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def claude_row(day="2026-11-20", model="claude-opus-4-6", output=300, **tokens):
    return {
        "date": day,
        "vendor": "anthropic",
        "surface": "claude_code",
        "model": model,
        "speed": "standard",
        "requests": 3,
        "tokens": {
            "input_uncached": 100,
            "cache_read": 1000,
            "cache_write_5m": 0,
            "cache_write_1h": 500,
            "cache_write_unsplit": 0,
            "output": output,
            "reasoning": None,
            **tokens,
        },
        "quality": {
            "partial_output_requests": 1,
            "fork_parent_missing": 0,
            "errored_rows": 0,
            "estimated": False,
        },
    }


def codex_row(day="2026-11-20", model="gpt-5.2-codex"):
    return {
        "date": day,
        "vendor": "openai",
        "surface": "codex",
        "model": model,
        "speed": None,
        "requests": 2,
        "tokens": {
            "input_uncached": 600,
            "cache_read": 900,
            "cache_write_5m": None,
            "cache_write_1h": None,
            "cache_write_unsplit": 0,
            "output": 250,
            "reasoning": 30,
        },
        "quality": {
            "partial_output_requests": 0,
            "fork_parent_missing": 1,
            "errored_rows": 0,
            "estimated": False,
        },
    }


def source(surface="claude_code", first="2026-11-18", last="2026-11-20", billing="subscription"):
    return {
        "vendor": schema.SURFACES[surface],
        "surface": surface,
        "billing": billing,
        "files_scanned": 5,
        "first_day": first,
        "last_day": last,
        "warnings": ["retention_window_30d"],
    }


def body(sources=None, rows=None, **top):
    return {
        "schema": "tokenoffset.local-usage/v1",
        "parser": {"name": "tokenoffset-local-parser", "version": "1.0.0"},
        "generated_at": "2026-11-21T10:00:00Z",
        "day_boundary": "UTC",
        "computer": "laptop",
        "sources": sources if sources is not None else [source()],
        "rows": rows
        if rows is not None
        else [claude_row("2026-11-18"), claude_row("2026-11-20", output=400)],
        **top,
    }


def post(client, payload):
    data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(URL, data=data, content_type="application/json")


def _with(path, value):
    """A valid body with one field at `path` (dotted, list indexes as ints) set to `value`."""
    b = body()
    node = b
    *parents, leaf = path
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[leaf]
    else:
        node[leaf] = value
    return b


REFUSALS = {
    "not_json": (b"{not json", "not valid JSON"),
    "not_an_object": ([1, 2], "must be a JSON object"),
    "unknown_top_level_key": (_with(("project",), "secret-app"), "unknown field 'project'"),
    "missing_rows": (_with(("rows",), KeyError), "missing the field 'rows'"),
    "wrong_schema": (_with(("schema",), "tokenoffset.local-usage/v2"), "Unknown schema"),
    "local_day_boundary": (_with(("day_boundary",), "local"), "day_boundary must be UTC"),
    "bad_parser_version": (_with(("parser", "version"), "1.0 <script>"), "parser.version"),
    "computer_name_with_a_path": (_with(("computer",), "/Users/alice"), "computer's name"),
    "no_sources": (_with(("sources",), []), "at least one tool"),
    "unknown_vendor": (_with(("sources", 0, "vendor"), "mistral"), "sources[0].vendor"),
    "unknown_surface": (_with(("sources", 0, "surface"), "claude_web"), "sources[0].surface"),
    "surface_not_accepted_yet": (
        body(sources=[{**source(), "surface": "gemini_cli", "vendor": "google"}], rows=[]),
        "not accepted yet",
    ),
    "vendor_not_the_tools_maker": (
        _with(("sources", 0, "vendor"), "openai"),
        "must be anthropic for claude_code",
    ),
    "unknown_billing": (_with(("sources", 0, "billing"), "free"), "sources[0].billing"),
    "tool_listed_twice": (body(sources=[source(), source()]), "a second time"),
    "first_day_after_last_day": (
        body(sources=[source(first="2026-11-20", last="2026-11-18")], rows=[]),
        "after its last_day",
    ),
    "bad_warnings": (_with(("sources", 0, "warnings"), ["Path /Users/x"]), "warning codes"),
    "too_many_rows": (body(rows=[claude_row()] * 5001), "at most 5,000"),
    "row_for_unlisted_tool": (body(rows=[codex_row()]), "which sources does not list"),
    "row_vendor_mismatch": (_with(("rows", 0, "vendor"), "openai"), "rows[0].vendor"),
    "bad_date_format": (_with(("rows", 0, "date"), "20/11/2026"), "date like"),
    "impossible_date": (_with(("rows", 0, "date"), "2026-02-30"), "not a real date"),
    "today": (
        body(sources=[source(last="2026-11-20")], rows=[claude_row("2026-11-21")]),
        "only finished UTC days",
    ),
    "future_day": (_with(("sources", 0, "last_day"), "2026-12-01"), "only finished UTC days"),
    "older_than_400_days": (
        _with(("sources", 0, "first_day"), "2025-10-16"),
        "400 days ago",
    ),
    "row_outside_first_last": (
        body(rows=[claude_row("2026-11-17")]),
        "outside claude_code's first_day",
    ),
    "bad_model_id": (_with(("rows", 0, "model"), "claude opus <b>"), "rows[0].model"),
    "model_too_long": (_with(("rows", 0, "model"), "m" * 101), "rows[0].model"),
    "bad_speed": (_with(("rows", 0, "speed"), "turbo"), "rows[0].speed"),
    "negative_tokens": (_with(("rows", 0, "tokens", "output"), -1), "must not be negative"),
    "fractional_tokens": (_with(("rows", 0, "tokens", "cache_read"), 1.5), "whole number"),
    "boolean_tokens": (_with(("rows", 0, "tokens", "input_uncached"), True), "whole number"),
    "null_required_tokens": (_with(("rows", 0, "tokens", "output"), None), "whole number"),
    "token_field_over_50b": (
        _with(("rows", 0, "tokens", "cache_read"), 50_000_000_001),
        "more than the 50,000,000,000 allowed",
    ),
    "row_total_over_50b": (
        body(rows=[claude_row(cache_read=30_000_000_000, input_uncached=30_000_000_000)]),
        "adds up to",
    ),
    "reasoning_above_output": (
        body(
            sources=[source("codex")],
            rows=[{**codex_row(), "tokens": {**codex_row()["tokens"], "reasoning": 251}}],
        ),
        "cannot exceed it",
    ),
    "unknown_token_field": (_with(("rows", 0, "tokens", "prompt"), 1), "unknown field 'prompt'"),
    "negative_requests": (_with(("rows", 0, "requests"), -3), "rows[0].requests"),
    "bad_quality": (_with(("rows", 0, "quality", "estimated"), "yes"), "true or false"),
    "duplicate_row": (body(rows=[claude_row(), claude_row()]), "repeats the day"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_it_refuses_each_invalid_upload_with_its_own_message_and_stores_nothing(
    owner_client, account, case
):
    payload, message = REFUSALS[case]
    response = post(owner_client, payload)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert not EstimateSource.objects.filter(account=account).exists()
    assert not DailyUsage.objects.exists()


def test_it_refuses_a_body_over_the_size_cap(owner_client, account):
    big = json.dumps(body()).encode() + b" " * schema.MAX_BODY_BYTES
    response = post(owner_client, big)
    assert response.status_code == 413
    assert "at most 3,000,000" in response.json()["error"]
    assert not EstimateSource.objects.filter(account=account).exists()


def test_the_valid_body_the_refusals_start_from_is_accepted(owner_client):
    assert post(owner_client, body()).status_code == 201


def test_an_owner_sends_and_gets_a_local_logs_source_with_rows_and_a_projection(
    owner_client, account, owner
):
    response = post(owner_client, body())
    assert response.status_code == 201
    (src,) = EstimateSource.objects.filter(account=account)
    assert (src.kind, src.vendor, src.label, src.status) == (
        "local_logs",
        "anthropic",
        "Claude Code on laptop",
        "ready",
    )
    pushed = src.pushed
    assert (pushed.sent_by, pushed.surface, pushed.computer, pushed.billing) == (
        owner,
        "claude_code",
        "laptop",
        "subscription",
    )
    assert pushed.quality["partial_output_requests"] == 2
    rows = {r.date: r for r in DailyUsage.objects.filter(source=src)}
    assert set(rows) == {date(2026, 11, 18), date(2026, 11, 20)}
    r = rows[date(2026, 11, 20)]
    assert (r.uncached_input, r.cache_read, r.cache_write, r.cache_write_1h, r.output) == (
        100,
        1000,
        500,
        500,
        400,
    )
    assert (r.model, r.service_tier, r.requests) == ("claude-opus-4-6", "standard", 3)
    sample = Sample.objects.get(source=src)
    assert sample.trigger == SampleTrigger.UPLOAD
    assert (sample.window_start, sample.window_end) == (date(2026, 8, 23), date(2026, 11, 21))
    projection = sample.projection
    assert projection.first_usage == date(2026, 11, 18)
    assert projection.monthly_tokens_total > 0
    assert response.json()["sources"][0]["id"] == str(src.public_id)


def test_re_sending_the_same_folder_changes_nothing(owner_client, account):
    post(owner_client, body())
    before = list(DailyUsage.objects.values_list("date", "model", "output").order_by("date"))
    assert post(owner_client, body()).status_code == 200
    assert EstimateSource.objects.filter(account=account).count() == 1
    after = list(DailyUsage.objects.values_list("date", "model", "output").order_by("date"))
    assert before == after


def test_a_newer_folder_replaces_its_days_and_keeps_older_ones(owner_client, account):
    post(owner_client, body())
    newer = body(
        sources=[source(first="2026-11-20", last="2026-11-20")],
        rows=[claude_row("2026-11-20", output=999)],
    )
    post(owner_client, newer)
    outputs = dict(DailyUsage.objects.values_list("date", "output"))
    assert outputs == {date(2026, 11, 18): 300, date(2026, 11, 20): 999}


def test_sending_only_codex_never_touches_claude_codes_rows(owner_client, account):
    post(owner_client, body())
    post(owner_client, body(sources=[source("codex")], rows=[codex_row()]))
    sources = {s.vendor: s for s in EstimateSource.objects.filter(account=account)}
    assert set(sources) == {"anthropic", "openai"}
    assert DailyUsage.objects.filter(source=sources["anthropic"]).count() == 2
    codex = DailyUsage.objects.get(source=sources["openai"])
    # Codex's cache-write-free row: input stays uncached, reasoning is not added to output.
    assert (codex.uncached_input, codex.cache_read, codex.cache_write, codex.output) == (
        600,
        900,
        0,
        250,
    )


def test_another_computer_or_colleague_never_erases_your_rows(client, account, owner):
    from conftest import owner_of

    colleague = owner_of(account, email="dana@example.org")
    client.force_login(owner)
    post(client, body())
    post(client, body(computer="desktop", rows=[claude_row("2026-11-20", output=1)]))
    client.force_login(colleague)
    post(client, body(rows=[claude_row("2026-11-20", output=2)]))
    assert EstimateSource.objects.filter(account=account).count() == 3
    per_source = {
        (p.sent_by.email, p.computer): dict(
            DailyUsage.objects.filter(source=p.source).values_list("date", "output")
        )
        for p in PushedSource.objects.select_related("sent_by")
    }
    assert per_source[("alice@example.org", "laptop")] == {
        date(2026, 11, 18): 300,
        date(2026, 11, 20): 400,
    }
    assert per_source[("alice@example.org", "desktop")] == {date(2026, 11, 20): 1}
    assert per_source[("dana@example.org", "laptop")] == {date(2026, 11, 20): 2}


def test_api_key_usage_of_a_connected_organisation_is_kept_but_left_out_of_the_total(
    owner_client, account, owner
):
    EstimateSourceFactory(account=account, vendor="anthropic", created_by=owner)
    response = post(owner_client, body(sources=[source(billing="api_key")]))
    assert response.json()["sources"][0]["excluded_from_total"] is True
    assert "left out of your total" in response.json()["message"]
    src = EstimateSource.objects.get(account=account, kind="local_logs")
    assert DailyUsage.objects.filter(source=src).count() == 2  # kept and shown
    assert src.projections.get().monthly_tokens_total == 0  # not counted twice


def test_api_key_usage_without_a_connected_organisation_counts(owner_client, account):
    post(owner_client, body(sources=[source(billing="api_key")]))
    src = EstimateSource.objects.get(account=account, kind="local_logs")
    assert src.projections.get().monthly_tokens_total > 0


def test_a_member_may_view_but_not_send(member_client, account):
    assert member_client.get(reverse("sources:local_logs")).status_code == 200
    assert post(member_client, body()).status_code == 403
    assert not EstimateSource.objects.filter(account=account).exists()


def test_another_account_never_sees_your_local_sources(client, owner, other_owner):
    client.force_login(owner)
    post(client, body())
    client.force_login(other_owner)
    page = client.get(reverse("sources:local_logs")).content.decode()
    assert "Claude Code on laptop" not in page
    assert "Nothing sent yet" in page


def test_the_page_shows_coverage_and_the_cleanup_tip(owner_client):
    post(owner_client, body())
    page = owner_client.get(reverse("sources:local_logs")).content.decode()
    assert "Last 3 days on this computer" in page
    assert "cleanupPeriodDays" in page
    assert "Other computers" in page
    assert "lower bound" in page
    assert "webkitdirectory" in page


def test_the_raw_body_is_not_kept(owner_client):
    post(owner_client, body(computer="laptop"))
    sample = Sample.objects.get()
    assert "rows" not in json.dumps(sample.progress["upload"]).replace('"rows":', "")
    assert set(sample.progress["upload"]) == {
        "surface",
        "billing",
        "first_day",
        "last_day",
        "rows",
        "parser_version",
        "excluded_from_total",
    }


def test_the_demo_folder_is_served_only_in_development(owner_client, settings):
    settings.DEBUG = False
    assert owner_client.get(reverse("sources:local_logs_demo")).status_code == 404
    settings.DEBUG = True
    files = owner_client.get(reverse("sources:local_logs_demo")).json()["files"]
    paths = [f["path"] for f in files]
    assert any("/subagents/" in p for p in paths)
    assert any(p.startswith(".codex/archived_sessions/") for p in paths)


def test_a_local_source_is_never_sampled_weekly_or_by_re_sample(owner_client, account):
    from estimates.sampling import samples_weekly_fanout

    post(owner_client, body())
    src = EstimateSource.objects.get(account=account)
    assert samples_weekly_fanout(spread_minutes=0).queued == 0
    response = owner_client.post(reverse("sources:sample", args=[src.public_id]), follow=True)
    assert "send it again to refresh it" in response.content.decode()
    assert not Sample.objects.filter(source=src).exclude(trigger=SampleTrigger.UPLOAD).exists()


def test_privacy_says_what_local_sources_store(client):
    page = client.get("/privacy").content.decode()
    assert "From Claude Code and Codex on your computer" in page
    assert "do not\n        keep the upload itself" in page


def test_the_page_loads_the_parser_with_its_published_integrity_hash(owner_client):
    import base64
    import hashlib

    from django.contrib.staticfiles import finders

    page = owner_client.get(reverse("sources:local_logs")).content.decode()
    with open(finders.find("js/local-logs-parser.js"), "rb") as f:
        sri = "sha384-" + base64.b64encode(hashlib.sha384(f.read()).digest()).decode()
    assert f'integrity="{sri}"' in page
    assert "local-logs-codex.js" in page


def test_local_sources_find_their_pushed_connector_in_the_registry(owner_client, account):
    from connectors import registry
    from connectors.interface import Delivery

    post(owner_client, body())
    connector = registry.for_source(EstimateSource.objects.get(account=account))
    assert (connector.id, connector.delivery) == ("local_logs", Delivery.PUSHED)
    assert connector not in registry.pulled()


def test_the_sources_list_offers_a_local_source_a_new_send_not_a_key(owner_client, account):
    assert post(owner_client, body()).status_code == 201
    local = EstimateSource.objects.get(account=account, kind="local_logs")

    html = owner_client.get("/sources/").content.decode()

    row = html[html.index(f'data-source="{local.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Send again" in row and "no key" in row and "when you send the folder again" in row
    assert "Replace key" not in row and "Re-sample" not in row and "••••" not in row
