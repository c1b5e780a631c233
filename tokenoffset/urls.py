from django.contrib import admin
from django.urls import include, path

from tokenoffset.accounts import views as accounts_views
from tokenoffset.dashboard import api as dashboard_api
from tokenoffset.dashboard import calculator as dashboard_calculator
from tokenoffset.dashboard import otlp as dashboard_otlp
from tokenoffset.dashboard import views as dashboard_views

urlpatterns = [
    path("", include("tokenoffset.dashboard.urls")),
    path("", include("tokenoffset.dashboard.public_urls")),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("robots.txt", dashboard_views.robots_txt, name="robots_txt"),
    path("api/v1/estimate", dashboard_api.estimate, name="api_estimate"),
    path("api/v1/footprint", dashboard_calculator.footprint_api, name="api_footprint"),
    path("api/v1/usage/daily", dashboard_api.usage_daily_json, name="api_usage_daily"),
    # OTLP/HTTP receivers for live sources: exact paths, no trailing slash (never a redirect).
    path("otlp/v1/metrics", dashboard_otlp.otlp_metrics, name="otlp_metrics"),
    path("otlp/v1/logs", dashboard_otlp.otlp_logs, name="otlp_logs"),
    path("account/", include("tokenoffset.accounts.urls")),
    path("account/", include("tokenoffset.dashboard.lifecycle_urls")),
    path("sources/", include("tokenoffset.dashboard.source_urls")),
    path("billing/", include("billing.urls")),
    path("auth/", include("allauth.urls")),
    # Before the admin's own login, which has no rate limit.
    path("admin/login/", accounts_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
