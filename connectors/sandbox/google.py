"""Routing the sandbox's Google requests: key files, the token endpoint, timeSeries.list."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from urllib.parse import parse_qs

from connectors.sandbox import google_api, google_auth
from connectors.sandbox.google_catalogue import BEHAVIOURS, KEY_FILE_PATH, TOKEN_PATH

logger = logging.getLogger("connectors.sandbox")
MAX_FORM_BYTES = 16_384


def handles(path: str) -> bool:
    path = path.split("?", 1)[0]
    return path in (KEY_FILE_PATH, TOKEN_PATH) or path.startswith("/v3/projects/")


def _answer(handler, status: int, body: dict, headers: dict | None = None, started=0.0, what=""):
    handler._vendor = "google"
    handler._send(status, json.dumps(body).encode(), headers)
    # One line per request; neither assertions nor tokens are logged.
    logger.info("%s %s status=%s %.0fms", handler.command, what, status,
                1000 * (time.monotonic() - started))  # fmt: skip


def _latency(handler, params: dict) -> bool:
    return handler._sleep(params.get("l", 0) / 1000)


def get(handler, url) -> None:
    started = time.monotonic()
    qs = parse_qs(url.query, keep_blank_values=True)
    if url.path == KEY_FILE_PATH:
        behaviour = qs.get("behaviour", ["flat"])[0]
        if behaviour.split(".")[0] not in BEHAVIOURS:
            return _answer(handler, 404, {"error": "unknown behaviour"}, started=started)
        project = qs.get("project", ["sandbox-demo"])[0]
        body = google_auth.key_file(handler.server.google_keys, behaviour, project)
        disposition = {"content-disposition": f'attachment; filename="sandbox-{behaviour}.json"'}
        return _answer(handler, 200, body, disposition, started, "key file")
    authorization = handler.headers.get("authorization", "")
    account = google_auth.behaviour_of(authorization)
    if account is not None and _latency(handler, account[2]):
        return None
    call = handler.server.count_call(f"google:{account[1]}") if account else 0  # per account
    status, body, headers = google_api.time_series(
        url.path, qs, authorization, call, dt.datetime.now(dt.UTC)
    )
    return _answer(handler, status, body, headers, started, url.path)


def post(handler) -> None:
    started = time.monotonic()
    length = int(handler.headers.get("content-length") or 0)
    if length > MAX_FORM_BYTES:
        handler.close_connection = True
        return _answer(handler, 413, {"error": "invalid_request"}, started=started)
    form = parse_qs(handler.rfile.read(length).decode("utf-8", "replace"))
    status, body = google_auth.token(handler.server.google_keys, form)
    if status == 200:
        account = google_auth.behaviour_of(f"Bearer {body['access_token']}")
        if account is not None and _latency(handler, account[2]):
            return None
    return _answer(handler, status, body, None, started, TOKEN_PATH)
