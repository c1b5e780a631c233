"""The in-browser parser against hand-made transcript folders holding every known trap.

The page reads the folder in its Web Worker exactly as for a user; the test reads the JSON body
the page would send and compares it with daily totals worked out by hand from the fixtures.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import make_owner

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "local_logs"
NOW = "2026-11-21T10:00:00Z"  # the fixtures' "today": its events are not sent


def tokens(i=0, cr=0, w5=0, w1=0, wu=0, out=0, reasoning=None, claude=True):
    return {
        "input_uncached": i,
        "cache_read": cr,
        "cache_write_5m": w5 if claude else None,
        "cache_write_1h": w1 if claude else None,
        "cache_write_unsplit": wu,
        "output": out,
        "reasoning": reasoning,
    }


def quality(partial=0, missing=0):
    return {
        "partial_output_requests": partial,
        "fork_parent_missing": missing,
        "errored_rows": 0,
        "estimated": False,
    }


def row(date, surface, model, speed, requests, tok, q=None):
    vendor = "anthropic" if surface == "claude_code" else "openai"
    return {
        "date": date,
        "vendor": vendor,
        "surface": surface,
        "model": model,
        "speed": speed,
        "requests": requests,
        "tokens": tok,
        "quality": q or quality(),
    }


CLAUDE_ROWS = [
    # msg_D at 23:30 UTC stays on the 18th in any browser time zone.
    row(
        "2026-11-18",
        "claude_code",
        "claude-sonnet-4-5-20250929",
        "standard",
        1,
        tokens(i=7, out=40),
    ),
    # Subagents, workflows and the old progress shape: S1 (never final: output 4, partial),
    # S2 (final 80), W1 (iterations mark it final), P (progress line + its subagent copy, once).
    row(
        "2026-11-19",
        "claude_code",
        "claude-haiku-4-5",
        "standard",
        4,
        tokens(i=45, cr=300, out=169),
        quality(partial=1),
    ),
    # msg_F: fast mode is its own row, under the logged model id.
    row("2026-11-19", "claude_code", "claude-opus-4-6", "fast", 1, tokens(i=20, out=60)),
    # msg_A (3 block lines, max output 300, 1h split), msg_B (flat write 200), the two gateway
    # "ocgo" responses without requestId (one per session: 5m writes 4+6), the id-less line
    # (two identical copies, once). Dropped: /btw replay of msg_A, <synthetic>, API error,
    # explicit-null requestId, history.jsonl, today's msg_T, 2025's msg_O.
    row(
        "2026-11-20",
        "claude_code",
        "claude-opus-4-6",
        "standard",
        5,
        tokens(i=116, cr=1030, w5=10, w1=500, wu=200, out=377),
    ),
]

CODEX_ROWS = [
    # Archived-only rollout (its all-zero event skipped).
    row(
        "2026-11-18",
        "codex",
        "gpt-5.2-codex",
        None,
        1,
        tokens(i=200, cr=100, out=30, reasoning=0, claude=False),
    ),
    # No turn_context: the model is "unknown", never guessed. Today's event is not sent.
    row("2026-11-18", "codex", "unknown", None, 1, tokens(i=50, out=5, reasoning=0, claude=False)),
    # The parent (also archived: once): a repeated snapshot skipped, cumulative deltas, the
    # compaction reset counted from last_token_usage, the cache_creation_input_tokens spelling
    # subtracted from input; token_usage_record ignored.
    row(
        "2026-11-19",
        "codex",
        "gpt-5.2-codex",
        None,
        4,
        tokens(i=2500, cr=1700, wu=100, out=450, reasoning=120, claude=False),
    ),
    # The spawned subagent whose parent is gone, its replay stamped with the original times.
    row(
        "2026-11-20",
        "codex",
        "gpt-5.1-codex-mini",
        None,
        1,
        tokens(i=600, cr=400, out=200, reasoning=100, claude=False),
        quality(missing=1),
    ),
    # The fork with its parent present (only growth past the parent's last total) and the fork
    # whose parent is gone, its replay a millisecond burst.
    row(
        "2026-11-20",
        "codex",
        "gpt-5.2-codex",
        None,
        2,
        tokens(i=600, cr=900, out=250, reasoning=30, claude=False),
        quality(missing=1),
    ),
]


@pytest.fixture
def local_page(page: Page, login) -> Page:
    login(make_owner("alice@example.org"))
    page.clock.set_fixed_time(NOW)
    page.goto("/sources/local/")
    return page


def parsed(page: Page, folder: Path) -> dict:
    page.set_input_files("#ll-input", str(folder))
    expect(page.locator("#ll-review")).to_be_visible()
    return json.loads(page.locator("#ll-json").text_content())


def test_it_totals_claude_code_transcripts_with_every_trap_exactly(local_page):
    body = parsed(local_page, FIXTURES / "claude")
    assert body["rows"] == CLAUDE_ROWS
    (source,) = body["sources"]
    assert source == {
        "vendor": "anthropic",
        "surface": "claude_code",
        "billing": "unknown",
        "files_scanned": 5,  # history.jsonl is never opened
        "first_day": "2026-11-18",
        "last_day": "2026-11-20",
        "warnings": [
            "retention_window_30d",
            "subagent_partial_output",
            "malformed_lines",
            "unreadable_lines",
        ],
    }
    expect(local_page.locator("#ll-dropped")).to_contain_text("Today's partial day is not sent")


def test_it_totals_codex_rollouts_without_replayed_or_archived_double_counts(local_page):
    body = parsed(local_page, FIXTURES / "codex")
    assert body["rows"] == CODEX_ROWS
    (source,) = body["sources"]
    assert (source["surface"], source["first_day"], source["last_day"]) == (
        "codex",
        "2026-11-18",
        "2026-11-20",
    )
    assert source["files_scanned"] == 6  # the archived copy of the parent is not read twice
    assert source["warnings"] == ["fork_parent_missing"]
    # A ChatGPT plan in the rate limits suggests a subscription; the user can change it.
    assert source["billing"] == "subscription"


def test_it_buckets_by_utc_day_whatever_the_browsers_time_zone(browser, live_server, client):
    client.force_login(make_owner("kiwi@example.org"))
    context = browser.new_context(base_url=live_server.url, timezone_id="Pacific/Auckland")
    try:
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.clock.set_fixed_time(NOW)
        page.goto("/sources/local/")
        body = parsed(page, FIXTURES / "claude")
    finally:
        context.close()
    assert body["rows"] == CLAUDE_ROWS


def test_the_body_holds_no_path_id_or_text_from_the_transcripts(local_page):
    text = json.dumps(parsed(local_page, FIXTURES / "claude")) + json.dumps(
        parsed(local_page, FIXTURES / "codex")
    )
    for secret in (
        "alice",
        "secret-app",
        "sess-",
        "msg_",
        "req_",
        "ocgo",
        "SECRET",
        "1111",
        "rollout",
        "jsonl",
        "projects",
        "history",
    ):
        assert secret not in text
