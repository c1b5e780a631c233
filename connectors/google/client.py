"""Cloud Monitoring client: daily token counts of Vertex AI and the Gemini API, per project.

Plain functions over an injected httpx.Client (base URL GOOGLE_MONITORING_BASE_URL) and the
stored credential string (connectors.google.credentials). One `timeSeries.list` per metric and
project covers the whole window (a 90-day daily series is far below a page), all pages followed;
every (project, metric) pair is fetched concurrently. No ORM here.

References:
https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list
https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-observability
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx

from connectors import bounds
from connectors.errors import ConnectorError
from connectors.google import auth
from connectors.google.credentials import CredentialProblem, GoogleCredential, credential_load
from connectors.google.schema import ListTimeSeries, TimeSeries, records, token_split
from connectors.http import MAX_ATTEMPTS, Sleep, get_json
from connectors.paging import OnPage, check_window, utc_midnight
from connectors.records import UsageRecord

USAGE_MAX_DAYS = 90  # one call per metric and project covers a whole sample
MAX_PAGES = 200  # per (project, metric); a daily 90-day series needs one
MAX_CONCURRENT = 12

NO_METRIC = "cannot find metric"  # 404 body of a metric never written in the project


@dataclass(frozen=True)
class Metric:
    type: str
    resource_type: str
    group_by: tuple[str, ...]
    service: str  # stored as the row's service tier: which Google API served the tokens
    model_of: Callable[[TimeSeries], str]
    split_of: Callable[[TimeSeries], str | None]


VERTEX = Metric(
    "aiplatform.googleapis.com/publisher/online_serving/token_count",
    "aiplatform.googleapis.com/PublisherModel",
    ("resource.label.model_user_id", "metric.label.type"),
    "vertex-ai",
    lambda s: s.resource.labels.get("model_user_id", ""),
    lambda s: token_split(s.metric.labels.get("type", "")),
)
GEMINI_OUTPUT = Metric(
    "generativelanguage.googleapis.com/generate_content_usage_output_token_count",
    "",
    ("metric.label.model",),
    "gemini-api",
    lambda s: s.metric.labels.get("model", ""),
    lambda s: "output",
)
# The Gemini API reports input only as quota usage, one metric per tier; only the project's
# tier has data, the others answer 404 "Cannot find metric(s)" (zero).
GEMINI_INPUT = tuple(
    Metric(
        f"generativelanguage.googleapis.com/quota/generate_content_{tier}_input_token_count/usage",
        "",
        ("metric.label.model",),
        "gemini-api",
        lambda s: s.metric.labels.get("model", ""),
        lambda s: "uncached_input",
    )
    for tier in ("free_tier", "paid_tier", "paid_tier_2", "paid_tier_3")
)
METRICS = (VERTEX, GEMINI_OUTPUT, *GEMINI_INPUT)


class GoogleError(ConnectorError):
    """A ConnectorError naming Google's precise cause, for the owner's message."""

    def __init__(self, message: str, *, cause: str, project: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.cause = cause  # invalid_grant, no_permission, api_disabled, unknown_project
        self.project = project


def _rfc3339(day: date) -> str:
    return utc_midnight(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def series_params(metric: Metric, start: date, end: date) -> list[tuple[str, str]]:
    """Daily sums on UTC midnights, reduced to the labels we keep."""
    query = f'metric.type="{metric.type}"'
    if metric.resource_type:
        query += f' AND resource.type="{metric.resource_type}"'
    return [
        ("filter", query),
        ("interval.startTime", _rfc3339(start)),
        ("interval.endTime", _rfc3339(end)),
        ("aggregation.alignmentPeriod", "86400s"),
        # ALIGN_SUM, not ALIGN_DELTA: DELTA interpolates quiet days and fabricates tokens.
        ("aggregation.perSeriesAligner", "ALIGN_SUM"),
        ("aggregation.crossSeriesReducer", "REDUCE_SUM"),
        *(("aggregation.groupByFields", field) for field in metric.group_by),
        ("view", "FULL"),
    ]


def series_path(project: str) -> str:
    return f"/v3/projects/{quote(project, safe=':.')}/timeSeries"


def _google_error(error: ConnectorError, project: str) -> ConnectorError:
    """Name the cause of a refusal, so the owner is told what to grant or fix."""
    text = error.message.lower()
    if error.status == 403:
        disabled = "service_disabled" in text or "has not been used" in text
        cause = "api_disabled" if disabled else "no_permission"
    elif error.status == 404 or (error.status == 400 and "project" in text):
        cause = "unknown_project"
    else:
        return error
    message = f"Project {project}: {error.message}"
    return GoogleError(message, cause=cause, project=project, kind="forbidden", status=error.status)


def fetch_series(
    client: httpx.Client,
    credential: GoogleCredential,
    project: str,
    metric: Metric,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[UsageRecord]:
    """Every page of one metric in one project as usage records (no metric yet: none)."""
    params = series_params(metric, start, end)
    found: list[UsageRecord] = []
    page_token, renewed = "", False
    pages = 0
    while pages < MAX_PAGES:
        token = auth.access_token(client, credential, max_attempts=max_attempts, sleep=sleep)
        try:
            page = get_json(
                client,
                series_path(project),
                params=[*params, ("pageToken", page_token)] if page_token else params,
                headers={"Authorization": f"Bearer {token}"},
                secret=token,
                schema=ListTimeSeries,
                max_attempts=max_attempts,
                sleep=sleep,
            )
        except ConnectorError as error:
            if error.status == 404 and NO_METRIC in error.message.lower():
                return found  # never written in this project: no usage of it, not an error
            if error.status == 401 and not renewed:
                auth.forget(credential, client)  # expired or revoked early: one new token
                renewed = True
                continue
            raise _google_error(error, project) from None
        pages += 1
        if page.execution_errors:
            first = page.execution_errors[0]
            raise ConnectorError(
                f"Project {project}: partial results ({first.message[:200]})", kind="server"
            )
        batch = records(
            page.time_series,
            service=metric.service,
            model_of=metric.model_of,
            split_of=metric.split_of,
        )
        for record in batch:
            bounds.check_record(record, start, end)
        found.extend(batch)
        page_token = page.next_page_token
        if on_page is not None:
            on_page(pages, bool(page_token))
        if not page_token:
            return found
    raise ConnectorError(
        f"Project {project}: {metric.type} still had pages after {MAX_PAGES}", kind="page_cap"
    )


def _credential(key: str) -> GoogleCredential:
    try:
        return credential_load(key)
    except CredentialProblem as problem:
        raise ConnectorError(problem.message, kind="malformed") from None


def fetch_usage(
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[UsageRecord]:
    """Daily token usage of every listed project for [start, end), all pairs concurrently."""
    check_window(start, end)
    credential = _credential(key)
    auth.access_token(client, credential, max_attempts=max_attempts, sleep=sleep)
    jobs = [(project, metric) for project in credential.project_ids for metric in METRICS]
    pages = itertools.count(1)  # next() is atomic: pages of every thread, counted once

    def one(project: str, metric: Metric) -> list[UsageRecord]:
        def counted(_pages: int, _more: bool) -> None:
            done = next(pages)
            if on_page is not None:
                on_page(done, True)  # whether it was the last page is known only at the end

        return fetch_series(
            client, credential, project, metric, start, end,
            on_page=counted, max_attempts=max_attempts, sleep=sleep,
        )  # fmt: skip

    pool = ThreadPoolExecutor(min(len(jobs), MAX_CONCURRENT), thread_name_prefix="google")
    failed = True
    try:
        futures = [pool.submit(one, project, metric) for project, metric in jobs]
        found = [record for future in futures for record in future.result()]
        failed = False
    finally:
        pool.shutdown(wait=not failed, cancel_futures=True)
    if on_page is not None:
        on_page(next(pages), False)
    return found


def validate(client: httpx.Client, key: str, *, today: date | None = None) -> GoogleCredential:
    """One token exchange and one Vertex timeSeries.list per project, without retries."""
    credential = _credential(key)
    auth.access_token(client, credential, max_attempts=1)
    today = today or datetime.now(UTC).date()
    for project in credential.project_ids:
        fetch_series(
            client, credential, project, VERTEX, today - timedelta(days=1), today, max_attempts=1
        )
    return credential
