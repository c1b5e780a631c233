"""Local logs: parsing transcripts in the browser (MB/s) and the upload's server time.

The transcripts are generated here, at bench time (connectors.local_logs.demo's line shapes:
one line per content block, long tool results, Codex rollouts), into a temporary folder that a
small harness page hands to the real Web Worker in Debian's Chromium.
"""

from __future__ import annotations

import http.server
import json
import random
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.local_logs import demo

ROOT = Path(__file__).resolve().parent.parent
HARNESS = """<!doctype html><meta charset="utf-8"><input type="file" id="pick" webkitdirectory>
<script>
document.getElementById("pick").addEventListener("change", function (e) {
  var items = Array.from(e.target.files).map(function (f) {
    return {path: f.webkitRelativePath, file: f};
  });
  var started = performance.now();
  var worker = new Worker("local-logs-worker.js");
  worker.onmessage = function (m) {
    if (m.data.type !== "done") return;
    window.benchResult = {ms: performance.now() - started, rows: m.data.result.rows.length,
      lines: m.data.result.progress.lines, bytes: m.data.result.progress.totalBytes};
  };
  worker.postMessage({items: items});
});
</script>"""


def transcripts(folder: Path, megabytes: int, seed: int = 11) -> int:
    """Write about `megabytes` MB of Claude Code and Codex transcripts; the bytes written."""
    rng = random.Random(seed)  # noqa: S311 - bench data
    target = megabytes * 1_000_000
    written = 0
    today = datetime.now(UTC).date()
    n = 0
    session_no = 0
    while written < target:
        session_no += 1
        day = today - timedelta(days=1 + session_no % 28)
        session = f"bench-{session_no}"
        lines = []
        for _ in range(200):
            n += 1
            lines += demo.claude_response(
                day=day, second=n % 80_000, n=n, model=demo.CLAUDE_MODELS[n % 3], session=session
            )
            # Tool results dominate real transcripts' bytes; the pre-filter skips them.
            lines.append(
                demo.claude_tool_result(
                    day=day, second=n % 80_000, session=session, size=rng.randint(500, 60_000)
                )
            )
        text = "".join(line + "\n" for line in lines)
        path = folder / ".claude" / "projects" / f"-bench-p{session_no % 20}" / f"{session}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written += len(text)
    for path, text in demo.demo_files(today=today).items():
        if path.startswith(".codex/"):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text)
            written += len(text)
    return written


def browser_parse(megabytes: int) -> dict:
    """Wall time for the Web Worker to read `megabytes` MB picked through webkitdirectory."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        return {"skipped": "chromium is not installed"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-local-logs-"))
    try:
        site = tmp / "site"
        site.mkdir()
        for name in (
            "local-logs-parser.js",
            "local-logs-claude.js",
            "local-logs-codex.js",
            "local-logs-worker.js",
        ):
            shutil.copy(ROOT / "static" / "js" / name, site / name)
        (site / "index.html").write_text(HARNESS)
        data = tmp / "logs"
        data.mkdir()
        started = time.perf_counter()
        size = transcripts(data, megabytes)
        generate_s = time.perf_counter() - started

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(site), **kwargs)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                from tests.e2e.conftest import CHROMIUM_ARGS

                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.set_input_files("#pick", str(data))
                page.wait_for_function("window.benchResult", timeout=30 * 60 * 1000)
                result = page.evaluate("window.benchResult")
                browser.close()
        finally:
            server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = result["ms"] / 1000
    return {
        "megabytes": round(size / 1e6, 1),
        "generate_s": round(generate_s, 1),
        "parse_s": round(seconds, 2),
        "mb_per_s": round(size / 1e6 / seconds, 1),
        "lines": result["lines"],
        "rows": result["rows"],
    }


def upload_server_time(account, user, repeats: int = 3) -> dict:
    """Server time of the largest upload accepted (5,000 rows), first send and re-sends."""
    from django.test import Client
    from django.utils import timezone

    from connectors.local_logs.schema import MAX_ROWS

    today = timezone.now().date()
    days = 100
    models = [f"claude-bench-{i}" for i in range(MAX_ROWS // days)]
    rows = []
    for back in range(1, days + 1):
        day = (today - timedelta(days=back)).isoformat()
        for m in models:
            rows.append({
                "date": day, "vendor": "anthropic", "surface": "claude_code", "model": m,
                "speed": "standard", "requests": 40,
                "tokens": {"input_uncached": 900, "cache_read": 400_000, "cache_write_5m": 0,
                           "cache_write_1h": 20_000, "cache_write_unsplit": 0, "output": 9_000,
                           "reasoning": None},
                "quality": {"partial_output_requests": 0, "fork_parent_missing": 0,
                            "errored_rows": 0, "estimated": False},
            })  # fmt: skip
    body = json.dumps({
        "schema": "tokenoffset.local-usage/v1",
        "parser": {"name": "bench", "version": "1.0.0"},
        "day_boundary": "UTC", "computer": "bench",
        "sources": [{"vendor": "anthropic", "surface": "claude_code", "billing": "subscription",
                     "files_scanned": 1, "first_day": rows[-1]["date"], "last_day": rows[0]["date"],
                     "warnings": []}],
        "rows": rows,
    })  # fmt: skip
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.post("/sources/local/upload", body, content_type="application/json")
        timings.append(time.perf_counter() - started)
        assert response.status_code in (200, 201), response.content[:300]
    return {
        "rows": len(rows),
        "body_kb": round(len(body) / 1000),
        "first_s": round(timings[0], 3),
        "resend_s": round(min(timings[1:]), 3),
    }
