"""POST /otlp/v1/metrics (Claude Code) and /otlp/v1/logs (Codex): OTLP/HTTP receivers.

Thin: authenticate the bearer token, read and decode (connectors.live.otlp), keep the token
points (connectors.live.points), append them to daily rows (estimates.live), answer as OTLP says.
No session, no CSRF (the token is the credential), never a redirect: an OpenTelemetry exporter
takes any status under 400 for success, so a 3xx would lose data silently.
Reference: https://github.com/open-telemetry/opentelemetry-proto/blob/main/docs/specification.md
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from connectors.live import otlp, points
from connectors.live.services import live_source_for_header
from estimates.live import live_ingest
from tokenoffset.accounts.client_address import client_bucket
from tokenoffset.accounts.ratelimits import limit_exceeded

# Requests per minute and source (a team's sessions each export about once a minute).
# Failed authentications per minute and client address before we stop answering 401.
BAD_TOKENS_PER_MINUTE = 30


@csrf_exempt
def otlp_metrics(request):
    return _export(request, otlp.METRICS, points.metrics_points)


@csrf_exempt
def otlp_logs(request):
    return _export(request, otlp.LOGS, points.logs_points)


def _failure(kind: str, status: int, message: str, **headers) -> HttpResponse:
    response = HttpResponse(otlp.status_encode(kind, status, message), status=status)
    response["Content-Type"] = kind
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@sensitive_variables("authorization")
def _export(request, signal: otlp.Signal, extract) -> HttpResponse:
    if request.method != "POST":
        return _failure(otlp.PROTOBUF, 405, "Use POST.", Allow="POST")
    kind = otlp.PROTOBUF
    try:
        kind = otlp.media_type(request.META.get("CONTENT_TYPE", ""))
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        live = live_source_for_header(authorization)
        if live is None:
            bucket = f"otlp-bad-token:{client_bucket(request)}"
            if limit_exceeded(bucket, limit=BAD_TOKENS_PER_MINUTE, window_seconds=60):
                return _failure(kind, 429, "Too many bad tokens.", Retry_After="60")
            return _failure(
                kind, 401, "A valid live source token is required.", WWW_Authenticate="Bearer"
            )
        allowed = settings.LIVE_INGEST_REQUESTS_PER_MINUTE
        if limit_exceeded(f"otlp:{live.source.public_id}", limit=allowed, window_seconds=60):
            return _failure(kind, 429, "Over this source's request rate.", Retry_After="60")
        body = otlp.body_read(
            request.read,
            content_length=request.META.get("CONTENT_LENGTH", ""),
            content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""),
        )
        message = otlp.request_decode(signal, body, kind)
    except otlp.OtlpRefused as e:
        return _failure(kind, e.status, e.message)
    extracted = extract(message, salt=str(live.source.public_id), now=timezone.now())
    live_ingest(live=live, extracted=extracted)
    encoded = otlp.response_encode(
        signal, kind, rejected=extracted.rejected, message=extracted.message
    )
    return HttpResponse(encoded, content_type=kind)
