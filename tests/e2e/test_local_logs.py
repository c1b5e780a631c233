"""End to end: an owner picks a transcript folder, reviews, sends, and the totals are stored.

The requests the page makes are recorded: only the JSON body of "Send daily totals" goes out,
and it holds no path, id or prompt text.
"""

import json
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from connectors.models import EstimateSource

from .conftest import make_owner

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "local_logs"
NOW = "2026-11-21T10:00:00Z"
SECRETS = (
    "alice",
    "secret-app",
    "sess-",
    "msg_",
    "req_",
    "ocgo",
    "SECRET",
    "prompt",
    "rollout",
    "jsonl",
    "projects",
    "11111111",
    "/Users",
    "history",
)


@pytest.fixture
def server_today():
    with time_machine.travel(NOW, tick=True):
        yield


def test_an_owner_sends_claude_code_then_codex_totals_and_nothing_else_leaves(
    page: Page, login, server_today, screenshot
):
    user = make_owner("alice@example.org")
    login(user)
    sent = []
    page.on("request", lambda r: sent.append((r.method, r.url, r.post_data)))
    page.clock.set_fixed_time(NOW)
    page.goto("/sources/")
    page.get_by_role("link", name="Connect a source").first.click()
    page.get_by_role("link", name="Read them from this computer").click()
    expect(
        page.get_by_role("heading", name="Claude Code and Codex on this computer")
    ).to_be_visible()

    page.get_by_label("This computer's name").fill("work laptop")
    page.set_input_files("#ll-input", str(FIXTURES / "claude"))
    expect(page.locator("#ll-review")).to_be_visible()
    expect(page.locator("#ll-days tr")).to_have_count(4)
    expect(page.locator("#ll-warnings")).to_contain_text("output is a lower bound")
    page.get_by_label("Claude Code").select_option("subscription")
    expect(page.locator("#ll-json")).to_contain_text('"billing": "subscription"')
    # Reading the folder sent nothing.
    assert not [r for r in sent if r[0] == "POST"]
    screenshot(page, "local-logs-review")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    downloaded = json.loads(Path(download.value.path()).read_text())
    shown = json.loads(page.locator("#ll-json").text_content())
    assert downloaded == shown

    page.get_by_role("button", name="Send daily totals").click()
    expect(page.get_by_role("status")).to_contain_text("Stored")
    expect(page.get_by_role("status")).to_contain_text("Claude Code on work laptop")

    page.set_input_files("#ll-input", str(FIXTURES / "codex"))
    expect(page.locator("#ll-days tr")).to_have_count(5)
    page.get_by_role("button", name="Send daily totals").click()
    expect(page.get_by_role("status")).to_contain_text("Codex on work laptop")

    posts = [r for r in sent if r[0] == "POST"]
    assert [url.rsplit("/", 1)[-1] for _, url, _ in posts] == ["upload", "upload"]
    first = json.loads(posts[0][2])
    assert first == shown  # exactly what was on screen
    for _, _, data in posts:
        for secret in SECRETS:
            assert secret not in data, secret
    # Nothing else was requested with the transcripts' contents either.
    for _, url, data in sent:
        assert "SECRET" not in url and "SECRET" not in (data or "")

    # Read back through the daily usage API, as the account's own session.
    sources = {s.vendor: s for s in EstimateSource.objects.filter(kind="local_logs")}
    assert set(sources) == {"anthropic", "openai"}

    def daily(source):
        response = page.request.get(
            f"/api/v1/usage/daily?source={source.public_id}&start=2026-10-01&end=2026-11-29"
        )
        assert response.ok
        return response.json()["rows"]

    types = ("uncached_input", "cache_read", "cache_write", "output")
    claude = {
        (r["date"], r["model"]): tuple(r[t] for t in types) for r in daily(sources["anthropic"])
    }
    assert claude == {
        ("2026-11-18", "claude-sonnet-4-5-20250929"): (7, 0, 0, 40),
        ("2026-11-19", "claude-haiku-4-5"): (45, 300, 0, 169),
        ("2026-11-19", "claude-opus-4-6"): (20, 0, 0, 60),
        ("2026-11-20", "claude-opus-4-6"): (116, 1030, 710, 377),
    }
    assert {r["vendor"] for r in daily(sources["anthropic"])} == {"anthropic"}
    codex_total = sum(
        r["uncached_input"] + r["cache_read"] + r["cache_write"] + r["output"]
        for r in daily(sources["openai"])
    )
    assert codex_total == (200 + 100 + 30) + (50 + 5) + (2500 + 1700 + 100 + 450) + (
        600 + 400 + 200
    ) + (600 + 900 + 250)

    page.goto("/sources/local/")
    expect(page.locator("#local-sources")).to_contain_text("Claude Code on work laptop")
    expect(page.locator("#local-sources")).to_contain_text("Last 3 days on this computer")


def test_a_newcomer_tries_it_with_the_demo_logs(page: Page, login, settings):
    settings.DEBUG = True  # the demo exists in development (`make run`) only
    login(make_owner("new@example.org"))
    page.goto("/sources/local/")
    page.get_by_role("button", name="Try it with demo logs").click()
    expect(page.locator("#ll-review")).to_be_visible()
    expect(page.locator("#ll-days")).to_contain_text("Claude Code")
    expect(page.locator("#ll-days")).to_contain_text("Codex")
    body = page.locator("#ll-json").text_content()
    assert "demo-" not in body and "req_" not in body and "/home/demo" not in body
