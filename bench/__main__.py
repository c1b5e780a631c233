"""`make bench`: the sampling and load figures, printed and written to var/bench.json.

Runs against the PostgreSQL and Redis that scripts/services.sh starts, with the vendor sandbox
in its own process. Figures are measurements on this machine, never assertions.

`python -m bench heavy_sample dashboard_load` runs only the named scenarios (the rest of
var/bench.json is kept from the previous run).
"""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent


SCENARIOS = (
    "heavy_sample",
    "typical_sample",
    "google_sample",
    "cursor_sample",
    "local_logs",
    "dashboard_load",
    "live_stream",
    "weekly_fanout",
)


def main() -> int:
    only = set(sys.argv[1:]) or set(SCENARIOS)
    if only - set(SCENARIOS):
        print(f"unknown scenario(s) {sorted(only - set(SCENARIOS))}; choose from {SCENARIOS}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenoffset.settings")
    os.environ.setdefault("DEBUG", "true")
    # The vendor sandbox runs in its own process: the vendor's work is not ours to measure.
    port = free_port()
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "connectors.sandbox", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.environ["VENDOR_SANDBOX_URL"] = sandbox_url = f"http://127.0.0.1:{port}"
    wait_for(sandbox_url)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # The gunicorn under load must accept this process's sessions: same signing key.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    django.setup()
    from django.core.management import call_command

    from bench import cursor, fanout, google, live, load, local_logs, machine, sampling
    from connectors.models import EstimateSource
    from tokenoffset.accounts.models import User
    from tokenoffset.accounts.services import account_create_for_user

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(f"bench-{datetime.now(UTC):%H%M%S}@example.org", "bench pw 1")
    account = account_create_for_user(user=user)
    n_sources = int(os.environ.get("BENCH_FANOUT_SOURCES", "1000"))
    cap = float(os.environ.get("BENCH_FANOUT_CAP_S", "420"))
    out = ROOT / "var" / "bench.json"
    results = json.loads(out.read_text()) if out.exists() and only != set(SCENARIOS) else {}
    results["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"] = machine.machine()
    try:
        if "heavy_sample" in only:
            # One untimed run first, as a running worker is warm (imports, connections) and a
            # vendor's report is not synthesised on demand as the sandbox's first one is.
            sampling.heavy_sample(account, user, 0)["source"].delete()
            print("heavy org, no latency …", flush=True)
            heavy0 = sampling.heavy_sample(account, user, 0)
            print("heavy org, 150 ms latency …", flush=True)
            heavy150 = sampling.heavy_sample(account, user, 150)
            for r in (heavy0, heavy150):
                r.pop("source")
            results["heavy_sample"] = [heavy0, heavy150]
        if "typical_sample" in only:
            print("typical org, first sample, 150 ms latency …", flush=True)
            results["typical_sample"] = sampling.typical_sample(account, user, 150)
        if "google_sample" in only:
            print("Google, 5 projects, 150 ms latency …", flush=True)
            results["google_sample"] = google.google_sample(account, user, 150)
        if "cursor_sample" in only:
            print("Cursor team, 2,000 events a day, 150 ms …", flush=True)
            results["cursor_sample"] = cursor.cursor_sample(account, user, 150)
        if "local_logs" in only:
            mb = int(os.environ.get("BENCH_LOCAL_LOGS_MB", "500"))
            print(f"local logs: parsing {mb} MB of transcripts in the browser …", flush=True)
            results["local_logs_parse"] = local_logs.browser_parse(mb)
            print("local logs: the largest upload's server time …", flush=True)
            results["local_logs_upload"] = local_logs.upload_server_time(account, user)
        if "dashboard_load" in only:
            print("dashboard under load …", flush=True)
            if "heavy_sample" not in only:
                # The page under load belongs to an account with two heavy sources.
                for latency in (0, 150):
                    sampling.heavy_sample(account, user, latency)
            results["dashboard_load"] = load.dashboard_load(user)
        if "live_stream" in only:
            print("live: a sustained OTLP stream beside the dashboard …", flush=True)
            results["live_stream"] = live.live_stream(account, user)
        if "weekly_fanout" in only:
            # Only the fan-out's own sources (made below) take part in the weekly run.
            EstimateSource.objects.all().delete()
            fan_user = User.objects.create_user(f"fan-{user.email}", "bench pw 2")
            print(f"weekly fan-out over {n_sources} sources (cap {cap:.0f} s) …", flush=True)
            results["weekly_fanout"] = fanout.weekly_fanout(fan_user, n_sources, cap)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the vendor sandbox did not start at {url}")


def table(r: dict) -> str:
    m = r["machine"]
    lines = [f"Benchmarks {r['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB", ""]
    lines.append(
        "| sample (90 d × 60 groups × 100 cost lines) | latency | wall s | fetch s | write s "
        "| SQL in write | peak MiB | wall ÷ RTT | fetch ÷ RTT |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for h in r.get("heavy_sample", []):
        lines.append(
            f"| {h['usage_rows']} usage + {h['cost_rows']} cost rows | {h['latency_ms']} ms | "
            f"{h['wall_s']} | {h['fetch_s']} | {h['write_s']} | {h['write_statements']} | "
            f"{h['peak_python_mib']} | {h['wall_over_rtt'] or '–'} | {h['fetch_over_rtt'] or '–'} |"
        )
    if t := r.get("typical_sample"):
        lines.append(
            f"\ntypical org (flat), first sample at {t['latency_ms']} ms per round trip, median "
            f"of {t['runs']}: Anthropic {t['anthropic']['wall_s']} s = "
            f"{t['anthropic']['wall_over_rtt']} × RTT; OpenAI {t['openai']['wall_s']} s = "
            f"{t['openai']['wall_over_rtt']} × RTT"
        )
    if "google_sample" in r:
        from bench.google import table_lines

        lines += table_lines(r["google_sample"])
    if "cursor_sample" in r:
        from bench.cursor import table_line

        lines += ["", table_line(r["cursor_sample"])]
    if "live_stream" in r:
        from bench.live import table_line as live_line

        lines += ["", live_line(r["live_stream"])]
    d = r.get("dashboard_load", {"skipped": "not run"})
    lines.append("")
    if "skipped" in d:
        lines.append(f"dashboard load: skipped ({d['skipped']})")
    else:
        lines.append(
            f"| page (gunicorn × {d['gunicorn_workers']}, {d['connections']} connections, "
            f"{d['seconds']} s) | p50 ms | p99 ms | req/s | non-2xx |"
        )
        lines.append("|---|---|---|---|---|")
        for name in ("dashboard", "trivial"):
            x = d[name]
            lines.append(
                f"| {name} | {x['p50_ms']} | {x['p99_ms']} | {x['rps']} | {x['non_2xx']} |"
            )
        lines.append(
            f"\ndashboard RPS ÷ trivial RPS = {d['rps_ratio']}; "
            f"dashboard p99 ÷ trivial p99 = {d.get('p99_ratio', '–')}"
        )
        if "sql_per_request" in d:
            sql = d["sql_per_request"]
            lines.append(
                f"SQL statements per dashboard request: {sql['cache_hit']} from the caches, "
                f"{sql['after_a_write']} right after a write to the account's data"
            )
    lines.append("")
    lp, lu = r.get("local_logs_parse", {"skipped": "not run"}), r.get("local_logs_upload")
    if "skipped" in lp:
        lines.append(f"local logs parse: skipped ({lp['skipped']})")
    else:
        lines.append(
            f"local logs: {lp['megabytes']} MB of transcripts parsed in the browser's Web Worker "
            f"in {lp['parse_s']} s = {lp['mb_per_s']} MB/s ({lp['lines']} lines, {lp['rows']} rows)"
        )
    if lu:
        lines.append(
            f"local logs upload: {lu['rows']} rows ({lu['body_kb']} kB) stored and projected in "
            f"{lu['first_s']} s; re-sent (replace) in {lu['resend_s']} s"
        )
    if "weekly_fanout" in r:
        from bench.fanout import table_line as fanout_line

        lines += ["", fanout_line(r["weekly_fanout"])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
