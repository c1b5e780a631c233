"""Claude Code and Codex on this computer: the page, the upload endpoint, and the demo folder.

The browser does the reading; these views only show the page, take the daily totals it sends
(validated in connectors.local_logs.schema, stored by estimates.pushed) and answer in JSON.
"""

import base64
import hashlib
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from connectors.local_logs import demo
from connectors.local_logs.schema import MAX_BODY_BYTES, SURFACE_NAMES, UploadRefused, upload_parse
from connectors.models import EstimateSource, Kind
from estimates.models import PushedSource
from estimates.pushed import local_upload_store
from tokenoffset.accounts.access import account_required, owner_required

# The code that reads the user's folder, in load order; its hashes are published on the page and
# the page's own script tags carry them as Subresource Integrity.
PARSER_FILES = (
    "js/local-logs-parser.js",
    "js/local-logs-claude.js",
    "js/local-logs-codex.js",
    "js/local-logs-worker.js",
    "js/local-logs.js",
)


@cache
def parser_integrity() -> dict[str, str]:
    """{static path: "sha384-…"} of the parser's files as they are deployed."""
    hashes = {}
    for path in PARSER_FILES:
        with open(finders.find(path), "rb") as f:
            digest = hashlib.sha384(f.read()).digest()
        hashes[path] = "sha384-" + base64.b64encode(digest).decode()
    return hashes


@account_required
def local_logs_page(request):
    pushed = (
        PushedSource.objects.filter(account=request.account)
        .select_related("source", "sent_by")
        .order_by("source__created_at")
    )
    admin_vendors = set(
        EstimateSource.objects.filter(account=request.account, kind=Kind.ADMIN_KEY).values_list(
            "vendor", flat=True
        )
    )
    return render(
        request,
        "sources/local_logs.html",
        {
            "pushed_sources": pushed,
            "admin_anthropic": "anthropic" in admin_vendors,
            "admin_openai": "openai" in admin_vendors,
            "demo": settings.DEBUG,
            "integrity": parser_integrity(),
            "sri_parser": parser_integrity()["js/local-logs-parser.js"],
            "sri_page": parser_integrity()["js/local-logs.js"],
        },
    )


@require_POST
@owner_required
def local_logs_upload(request):
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > MAX_BODY_BYTES:
            raise UploadRefused(
                f"The upload is {int(declared):,} bytes; at most {MAX_BODY_BYTES:,} are accepted.",
                413,
            )
        # read() rather than .body: the size cap is ours, with our message.
        upload = upload_parse(request.read(MAX_BODY_BYTES + 1), today=timezone.now().date())
    except (UploadRefused, ValueError) as e:
        message = e.message if isinstance(e, UploadRefused) else "The upload could not be read."
        status = e.status if isinstance(e, UploadRefused) else 400
        return JsonResponse({"error": message}, status=status)
    stored = local_upload_store(account=request.account, user=request.user, upload=upload)
    parts = []
    for s in stored:
        line = f"{s.pushed.source.label}: {s.pushed.days_covered} days ({s.rows} rows)"
        if s.pushed.excluded_from_total:
            line += ", shown but left out of your total (its API key's organisation is connected)"
        parts.append(line)
    return JsonResponse(
        {
            "message": "Stored. " + "; ".join(parts) + ".",
            "sources": [
                {
                    "id": str(s.pushed.source.public_id),
                    "label": s.pushed.source.label,
                    "tool": SURFACE_NAMES[s.pushed.surface],
                    "first_day": s.pushed.first_day.isoformat(),
                    "last_day": s.pushed.last_day.isoformat(),
                    "rows": s.rows,
                    "created": s.created,
                    "excluded_from_total": s.pushed.excluded_from_total,
                    "monthly_tokens": s.projection.monthly_tokens_total,
                }
                for s in stored
            ],
        },
        status=201 if any(s.created for s in stored) else 200,
    )


@require_GET
@account_required
def local_logs_demo(request):
    """A generated demo folder with every trap, for `make run` (development only)."""
    if not settings.DEBUG:
        raise Http404
    files = demo.demo_files(today=timezone.now().date())
    return JsonResponse({"files": [{"path": p, "text": t} for p, t in sorted(files.items())]})
