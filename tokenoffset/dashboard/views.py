from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from tokenoffset.accounts.access import account_required
from tokenoffset.celery import app as celery_app

from . import public
from .charts import dashboard_chart
from .page import dashboard_page


def home(request):
    """The dashboard for a signed-in user; the public front page for a visitor."""
    if not request.user.is_authenticated:
        return public.front(request)
    return dashboard(request)


@account_required
def dashboard(request):
    """The offset in force beside the account's estimate, its chart and its sources."""

    def context(data):
        return {
            # Lazy: the template caches the chart per data version and only builds it on a miss.
            "chart": lambda: dashboard_chart(data),
            "sandbox": bool(settings.VENDOR_SANDBOX_URL),
        }

    return dashboard_page(request, context)


@never_cache
def healthz(request):
    """Database and broker reachable: used by container health checks and load balancers."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as e:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {type(e).__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as e:  # noqa: BLE001
        checks["broker"] = f"error: {type(e).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    status = 200 if healthy else 503
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=status)


def robots_txt(request):
    """Public pages may be indexed; the app behind the login may not."""
    body = "User-agent: *\nAllow: /docs/\nAllow: /privacy\nDisallow: /\n"
    return HttpResponse(body, content_type="text/plain")
