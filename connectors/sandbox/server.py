"""The vendor sandbox: one stdlib HTTP server speaking both vendors' admin usage/cost APIs.

Anthropic paths live under /v1/organizations/, OpenAI paths under /v1/organization/, so one
port serves both. The sandbox key (see catalogue.py) chooses the behaviour.

References:
https://platform.claude.com/docs/en/manage-claude/admin-api
https://platform.claude.com/docs/en/api/admin/organizations/me
https://platform.claude.com/docs/en/api/errors
https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import msgspec

from connectors.sandbox import cursor, google, google_auth, reports
from connectors.sandbox.catalogue import ANTHROPIC, OPENAI, effective_params, parse_key

logger = logging.getLogger("connectors.sandbox")

ROUTES = {
    "/v1/organizations/me": (ANTHROPIC, "me"),
    "/v1/organizations/usage_report/messages": (ANTHROPIC, "usage"),
    "/v1/organizations/cost_report": (ANTHROPIC, "costs"),
    "/v1/organization/usage/completions": (OPENAI, "usage"),
    "/v1/organization/usage/embeddings": (OPENAI, "embeddings"),
    "/v1/organization/usage/moderations": (OPENAI, "moderations"),
    "/v1/organization/costs": (OPENAI, "costs"),
}
ANTHROPIC_5XX = [(529, "overloaded_error", "Overloaded"), (500, "api_error", "Internal error")]
OPENAI_5XX = [500, 503, 502]
OPENAI_5XX_MESSAGE = "The server had an error while processing your request. Sorry about that!"
MISSING_SCOPES = (
    "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True  # a `hang` request must never block shutdown
    block_on_close = False

    def __init__(self, address, google_keys: Path | None = None):
        super().__init__(address, SandboxHandler)
        self.google_keys = google_auth.KeyStore(google_keys)
        self.stopping = threading.Event()
        self.calls: dict[str, int] = {}
        self.calls_lock = threading.Lock()

    def count_call(self, key: str) -> int:
        with self.calls_lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            return self.calls[key]


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections; not a limit on how long a handler may take

    def do_GET(self):  # the http.server API names handlers do_<METHOD>
        if self.path.startswith(cursor.PATH_PREFIX):
            return self._cursor()
        started = time.monotonic()
        self._request_id = "req_" + secrets.token_hex(12)
        self._status = 0
        url = urlsplit(self.path)
        if google.handles(url.path):
            return google.get(self, url)
        vendor, endpoint = ROUTES.get(url.path, (None, None))
        self._vendor = vendor or (ANTHROPIC if url.path.startswith("/v1/organizations") else OPENAI)
        self._behaviour = "-"
        try:
            if endpoint is None:
                self._not_found(url.path)
            else:
                self._handle(endpoint, parse_qs(url.query, keep_blank_values=True))
        finally:
            # One line per request; the query carries no secret and the key is never logged.
            elapsed_ms = 1000 * (time.monotonic() - started)
            logger.info(
                "%s %s %s behaviour=%s status=%s %.0fms",
                *(self.command, url.path, url.query, self._behaviour),
                *(self._status or "none", elapsed_ms),
            )

    def do_POST(self):
        if google.handles(self.path):
            return google.post(self)
        if self.path.startswith(cursor.PATH_PREFIX):
            return self._cursor()
        self.close_connection = True
        self._request_id = "req_" + secrets.token_hex(12)
        self._vendor = ANTHROPIC if self.path.startswith("/v1/organizations") else OPENAI
        self._error(405, "invalid_request_error", f"Method {self.command} not allowed")

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _cursor(self) -> None:
        """Cursor's Admin API (connectors.sandbox.cursor answers; the key is never logged)."""
        self._vendor, self._request_id = cursor.CURSOR, "req_" + secrets.token_hex(12)
        length = self.headers.get("content-length", "0")
        body = self.rfile.read(min(int(length), 1_000_000)) if length.isdigit() else b""
        path = urlsplit(self.path).path
        auth = self.headers.get("authorization", "")
        status, payload, headers, delay = cursor.respond(
            self.command, path, auth, body, self.server.count_call
        )
        if not self._sleep(delay):
            self._json(status, payload, headers)
        logger.info("%s %s cursor status=%s", self.command, path, self._status or "none")

    def log_message(self, format, *args):  # one line per request is logged in do_GET
        pass

    def _handle(self, endpoint: str, qs: dict[str, list[str]]) -> None:
        key = self._key()
        parsed = parse_key(key) if key else None
        if key is None:
            return self._missing_key()
        if parsed is None or parsed[0] != self._vendor:
            return self._invalid_key(key)
        _, behaviour, nonce, explicit = parsed
        self._behaviour = behaviour
        if self._vendor == ANTHROPIC and not self.headers.get("anthropic-version"):
            message = "anthropic-version: header is required"
            return self._error(400, "invalid_request_error", message)
        params = effective_params(behaviour, explicit)
        call = self.server.count_call(key)
        if self._sleep(params["l"] / 1000):
            return None
        if behaviour == "hang" and self._sleep(params["h"]):
            return None
        if behaviour == "revoked":
            return self._invalid_key(key)
        if behaviour == "ratelimited" and call <= params["n"]:
            return self._rate_limited(params["r"])
        if behaviour == "flaky" and call <= 2 * params["n"] and call % 2:
            return self._server_error(call // 2)
        if behaviour == "standard" and endpoint != "me":
            return self._missing_permission(params)
        if behaviour == "late401" and endpoint != "me":
            reports_call = self.server.count_call(f"{key}/reports")
            if "page" in qs or ("n" in explicit and reports_call > explicit["n"]):
                return self._invalid_key(key)
        if endpoint == "me":
            return self._organization(behaviour, nonce)
        now = dt.datetime.now(dt.UTC)
        beta = ",".join(self.headers.get_all("anthropic-beta") or [])
        try:
            query = reports.parse_query(self._vendor, endpoint, qs, beta, now)
        except reports.InvalidRequest as exc:
            return self._error(400, "invalid_request_error", exc.message, param=exc.param)
        page = msgspec.json.encode(reports.build_page(query, behaviour, explicit, now.date()))
        if behaviour == "malformed":  # a body cut off mid-stream
            page = page[: len(page) // 2]
        return self._send(200, page)

    def _key(self) -> str | None:
        authorization = self.headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        if self._vendor == ANTHROPIC:  # x-api-key, or an OAuth token as `authorization: Bearer`
            return self.headers.get("x-api-key") or bearer
        return bearer

    def _sleep(self, seconds: float) -> bool:
        """Wait; True when the server is stopping (then drop the connection unanswered)."""
        if seconds > 0 and self.server.stopping.wait(seconds):
            self.close_connection = True
            return True
        return False

    def _organization(self, behaviour: str, nonce: str) -> None:
        org_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tokenoffset-sandbox/{behaviour}/{nonce}"))
        body = {"id": org_id, "name": f"Sandbox Org ({behaviour})", "type": "organization"}
        self._json(200, body, {"anthropic-organization-id": org_id})

    def _missing_key(self) -> None:
        if self._vendor == ANTHROPIC:
            return self._error(401, "authentication_error", "x-api-key header is required")
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return self._error(401, "invalid_request_error", message)

    def _invalid_key(self, key: str) -> None:
        if self._vendor == ANTHROPIC:
            return self._error(401, "authentication_error", "invalid x-api-key")
        shown = f"{key[:8]}{'*' * 10}{key[-4:]}" if len(key) > 12 else "*" * len(key)
        message = (
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        return self._error(401, "invalid_request_error", message, code="invalid_api_key")

    def _missing_permission(self, params: dict[str, int]) -> None:
        status = 401 if params["s"] == 401 else 403
        if self._vendor == ANTHROPIC:
            kind = "authentication_error" if status == 401 else "permission_error"
            message = "This API key does not have the scope needed for the Admin API."
            return self._error(status, kind, message)
        if params["o"]:
            return self._error(status, "invalid_request_error", MISSING_SCOPES)
        # The bare-string form some callers observe: {"error": "<message>"}.
        return self._json(status, {"error": MISSING_SCOPES})

    def _rate_limited(self, retry_after: int) -> None:
        headers = {"retry-after": str(retry_after)}
        if self._vendor == ANTHROPIC:
            return self._error(429, "rate_limit_error", "Rate limited", headers=headers)
        message = "Rate limit reached for requests to the organization usage API."
        return self._error(429, "requests", message, code="rate_limit_exceeded", headers=headers)

    def _server_error(self, index: int) -> None:
        if self._vendor == ANTHROPIC:
            status, kind, message = ANTHROPIC_5XX[index % len(ANTHROPIC_5XX)]
            return self._error(status, kind, message)
        status = OPENAI_5XX[index % len(OPENAI_5XX)]
        return self._error(status, "server_error", OPENAI_5XX_MESSAGE)

    def _not_found(self, path: str) -> None:
        if self._vendor == ANTHROPIC:
            return self._error(404, "not_found_error", "Not found")
        return self._error(404, "invalid_request_error", f"Invalid URL (GET {path})")

    def _error(self, status, kind, message, *, param=None, code=None, headers=None) -> None:
        if self._vendor == ANTHROPIC:
            body = {
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": self._request_id,
            }
        else:
            body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        return self._json(status, body, headers)

    def _json(self, status: int, body: object, headers: dict | None = None) -> None:
        self._send(status, json.dumps(body).encode(), headers)

    def _send(self, status: int, payload: bytes, headers: dict | None = None) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        if self._vendor == ANTHROPIC:
            self.send_header("request-id", self._request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> tuple[SandboxServer, str]:
    """Start the sandbox on a daemon thread; return the server and its base URL."""
    server = SandboxServer((host, port))
    thread = threading.Thread(target=server.serve_forever, name="vendor-sandbox", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host}:{bound_port}"


def stop(server: SandboxServer) -> None:
    """Stop serving, release held (`hang`/`slow`) requests and close the socket."""
    server.stopping.set()
    server.shutdown()
    server.server_close()
