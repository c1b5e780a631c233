"""The sandbox's Cloud Monitoring `projects.timeSeries.list`, for the token metrics only.

Answers like Google: DELTA / INT64 series, `int64Value` as a string, points newest first, no
point for a day without tokens, only the grouped labels after a reducer, 404 "Cannot find
metric(s)" for a metric never written, errors in the `google.rpc` envelope.

Reference: https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list
"""

from __future__ import annotations

import datetime as dt
import re

from connectors.sandbox.google_auth import behaviour_of

DAY = dt.timedelta(days=1)
HISTORY_DAYS = 400
VERTEX = "aiplatform.googleapis.com/publisher/online_serving/token_count"
GEMINI_OUT = "generativelanguage.googleapis.com/generate_content_usage_output_token_count"
GEMINI_PAID_IN = (
    "generativelanguage.googleapis.com/quota/generate_content_paid_tier_input_token_count/usage"
)
# `flat`, per project and day: (metric labels, resource labels, tokens).
FLAT = {
    VERTEX: [
        ({"type": "input"}, {"model_user_id": "gemini-2.5-flash"}, 3_000_000),
        ({"type": "output"}, {"model_user_id": "gemini-2.5-flash"}, 300_000),
        ({"type": "input"}, {"model_user_id": "gemini-2.5-pro"}, 1_000_000),
        ({"type": "output"}, {"model_user_id": "gemini-2.5-pro"}, 120_000),
    ],
    GEMINI_OUT: [({"model": "gemini-2.0-flash"}, {"location": "global"}, 250_000)],
    GEMINI_PAID_IN: [({"model": "gemini-2.0-flash"}, {"location": "global"}, 2_500_000)],
}
RESOURCE = {VERTEX: "aiplatform.googleapis.com/PublisherModel"}
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
}
_METRIC = re.compile(r'metric\.type\s*=\s*"([^"]+)"')
_PROJECT = re.compile(r"^/v3/projects/([^/]+)/timeSeries$")


class Refused(Exception):
    def __init__(self, status: int, message: str, reason: str = "", headers=None):
        super().__init__(message)
        self.status, self.message, self.reason, self.headers = status, message, reason, headers


def envelope(error: Refused) -> dict:
    status = STATUS.get(error.status, "INTERNAL")
    body = {"code": error.status, "message": error.message, "status": status}
    if error.reason:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": error.reason,
                "domain": "googleapis.com",
                "metadata": {"service": "monitoring.googleapis.com"},
            }
        ]
    return {"error": body}


def daily(behaviour: str, tokens: int, day: dt.date, today: dt.date) -> int:
    age = (today - day).days
    if age < 0 or age >= HISTORY_DAYS:
        return 0
    if behaviour == "trend":
        return tokens * 2 * (HISTORY_DAYS - age) // HISTORY_DAYS
    return tokens


def _time(qs: dict, name: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(qs[name][0].replace("Z", "+00:00"))
    except (KeyError, IndexError, ValueError):
        raise Refused(400, f"Field {name} had an invalid value: an RFC 3339 time.") from None
    if value.tzinfo is None:
        raise Refused(400, f"Field {name} had an invalid value: no time zone.")
    return value.astimezone(dt.UTC)


def _query(qs: dict) -> tuple[str, dt.datetime, dt.datetime, list[str]]:
    metrics = _METRIC.findall(qs.get("filter", [""])[0])
    if len(metrics) != 1:
        raise Refused(400, "The filter must name exactly one metric.type.")
    end = _time(qs, "interval.endTime")
    start = _time(qs, "interval.startTime") if "interval.startTime" in qs else end
    if qs.get("aggregation.alignmentPeriod") != ["86400s"]:
        raise Refused(400, "The sandbox answers daily alignment only (alignmentPeriod 86400s).")
    aligner = qs.get("aggregation.perSeriesAligner", ["ALIGN_NONE"])[0]
    if aligner not in ("ALIGN_SUM", "ALIGN_DELTA"):
        raise Refused(400, f"The aligner {aligner} is not valid for a DELTA INT64 metric here.")
    return metrics[0], start, end, qs.get("aggregation.groupByFields", [])


def _series(behaviour, metric, start, end, group_by, today) -> list[dict]:
    rows = FLAT.get(metric)
    if rows is None:
        raise Refused(404, f'Cannot find metric(s) that match type = "{metric}".')
    kept: dict[tuple, dict] = {}
    for metric_labels, resource_labels, tokens in rows:
        m = {k: v for k, v in metric_labels.items() if f"metric.label.{k}" in group_by}
        r = {k: v for k, v in resource_labels.items() if f"resource.label.{k}" in group_by}
        entry = kept.setdefault((tuple(m.items()), tuple(r.items())), {"m": m, "r": r, "t": 0})
        entry["t"] += tokens
    series = []
    for entry in kept.values():
        points = []
        period_end = end
        while period_end - DAY >= start:
            day = (period_end - DAY).date()
            value = daily(behaviour, entry["t"], day, today)
            if value:
                points.append({
                    "interval": {"startTime": _rfc3339(period_end - DAY),
                                 "endTime": _rfc3339(period_end)},
                    "value": {"int64Value": str(value)},
                })  # fmt: skip
            period_end -= DAY
        if points:
            series.append({
                "metric": {"type": metric, "labels": entry["m"]},
                "resource": {"type": RESOURCE.get(metric, "generativelanguage.googleapis.com/"
                             "Location"), "labels": entry["r"]},
                "metricKind": "DELTA", "valueType": "INT64", "points": points,
            })  # fmt: skip
    return series


def _rfc3339(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def time_series(path: str, qs: dict, authorization: str, call: int, now: dt.datetime):
    """GET /v3/projects/{p}/timeSeries: (status, body, headers)."""
    try:
        account = behaviour_of(authorization)
        if account is None:
            raise Refused(401, "Request had invalid authentication credentials.")
        behaviour, _nonce, params = account
        project = _PROJECT.match(path)[1]
        if behaviour == "ratelimited" and call <= params["n"]:
            message = "Quota exceeded for quota metric 'Time series queries' of service " \
                "'monitoring.googleapis.com'."  # fmt: skip
            raise Refused(429, message, "RATE_LIMIT_EXCEEDED", {"retry-after": str(params["r"])})
        if behaviour == "nopermission":
            raise Refused(403, "Permission monitoring.timeSeries.list denied (or the resource "
                          "may not exist).", "IAM_PERMISSION_DENIED")  # fmt: skip
        if behaviour == "disabled":
            raise Refused(403, f"Cloud Monitoring API has not been used in project {project} "
                          "before or it is disabled. Enable it by visiting https://console."
                          "developers.google.com/apis/api/monitoring.googleapis.com/overview "
                          "then retry.", "SERVICE_DISABLED")  # fmt: skip
        if behaviour == "unknownproject":
            raise Refused(404, f"Project {project} not found.")
        metric, start, end, group_by = _query(qs)
        series = _series(behaviour, metric, start, end, group_by, now.date())
        page_token = qs.get("pageToken", ["0"])[0] or "0"
        if not page_token.isdigit():
            raise Refused(400, "Invalid page token.")
    except Refused as error:
        return error.status, envelope(error), error.headers or {}
    first = int(page_token)
    if behaviour == "paging":
        page, more = series[first : first + 1], first + 1 < len(series)
        body = {"timeSeries": page, "unit": "1"}
        if more:
            body["nextPageToken"] = str(first + 1)
        return 200, body, {}
    return 200, {"timeSeries": series, "unit": "1"}, {}
