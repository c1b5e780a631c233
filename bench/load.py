"""The dashboard under load: gunicorn on PostgreSQL, wrk with 16 connections."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARM_UP_SECONDS = 3  # every worker booted and connected before anything is measured


def compose_service(service: str) -> str:
    """The lines of one service in docker-compose.yml."""
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        block = re.search(rf"^  {service}:\n((?:    .*\n|\s*\n)+)", f.read(), re.MULTILINE)
    if block is None:
        raise RuntimeError(f"no {service} service in docker-compose.yml")
    return block.group(1)


def deployed_gunicorn_workers() -> int:
    """As many gunicorn workers as the web service in docker-compose.yml runs."""
    return int(re.search(r"gunicorn .*--workers (\d+)", compose_service("web")).group(1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _set_cookies(headers: list[str]) -> dict:
    return dict(h.split(";", 1)[0].strip().split("=", 1) for h in headers)


def _header(cookies: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _unit(value: str) -> float:
    """wrk latency like '12.34ms' / '1.02s' / '850.00us' → milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, cookie: str | None, seconds: int, connections: int = 16) -> dict:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *headers, url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk printed no latency distribution:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50_ms": round(_unit(latency["50"]), 2),
        "p99_ms": round(_unit(latency["99"]), 2),
        "rps": round(rps, 1),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def production_env(**more: str) -> dict[str, str]:
    """This process's environment with production settings (DEBUG off) and its keys, for the
    servers and workers the benchmarks start."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_MANIFEST": "false",
        **more,
    }
    env.setdefault("TOKENOFFSET_ENCRYPTION_KEYS", settings.TOKENOFFSET_ENCRYPTION_KEYS)
    return env


def gunicorn_start(port: int, workers: int) -> subprocess.Popen:
    """The app under gunicorn on loopback, production-like, with this process's signing key."""
    env = production_env(LOG_LEVEL="WARNING")
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "tokenoffset.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _ratio(a: dict, b: dict, key: str, digits: int) -> float | None:
    return round(a[key] / b[key], digits) if b[key] else None


def dashboard_queries(user) -> dict:
    """SQL statements per dashboard request (in this process, same database and cache): served
    from the caches, and right after a write to the account's data."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tokenoffset.accounts.services import account_data_changed

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/")
        assert response.status_code == 200 and b"Your estimate" in response.content
        return len(queries)

    for _ in range(3):  # the session's user learned here, its stamps read, its rows kept
        counted()
    hit = counted()
    account_data_changed(account_id=user.memberships.get().account_id)
    return {"cache_hit": hit, "after_a_write": counted()}


def dashboard_load(user, seconds: int = 10) -> dict:
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    port, workers = _free_port(), deployed_gunicorn_workers()
    server = gunicorn_start(port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/robots.txt", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        cookies = {"sessionid": session_cookie(user)}
        request = urllib.request.Request(f"{base}/", headers={"Cookie": _header(cookies)})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert b"Your estimate" in response.read(), "the dashboard did not render the estimate"
            # A browser that loaded the page before sends back what it set (its CSRF cookie).
            cookies.update(_set_cookies(response.headers.get_all("Set-Cookie") or []))
        for url, cookie in ((f"{base}/", _header(cookies)), (f"{base}/robots.txt", None)):
            wrk(url, cookie, WARM_UP_SECONDS)
        dashboard = wrk(f"{base}/", _header(cookies), seconds)
        trivial = wrk(f"{base}/robots.txt", None, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "sql_per_request": dashboard_queries(user),
        "gunicorn_workers": workers,
        "warm_up_s": WARM_UP_SECONDS,
        "connections": 16,
        "seconds": seconds,
        "dashboard": dashboard,
        "trivial": trivial,
        "rps_ratio": _ratio(dashboard, trivial, "rps", 3),
        "p99_ratio": _ratio(dashboard, trivial, "p99_ms", 2),
    }
