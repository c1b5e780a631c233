from django.contrib import admin
from django.urls import include, path

from tokenoffset.dashboard import api as dashboard_api
from tokenoffset.dashboard import views as dashboard_views

urlpatterns = [
    path("", include("tokenoffset.dashboard.urls")),
    path("", include("tokenoffset.dashboard.public_urls")),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("robots.txt", dashboard_views.robots_txt, name="robots_txt"),
    path("api/v1/estimate", dashboard_api.estimate, name="api_estimate"),
    path("account/", include("tokenoffset.accounts.urls")),
    path("account/", include("tokenoffset.dashboard.lifecycle_urls")),
    path("sources/", include("tokenoffset.dashboard.source_urls")),
    path("billing/", include("billing.urls")),
    path("auth/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
