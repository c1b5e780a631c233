from django.urls import path

from . import live, local_logs, sources

app_name = "sources"

urlpatterns = [
    path("", sources.source_list, name="list"),
    path("add/", sources.source_add, name="add"),
    path("add/google/", sources.source_add_google, name="add_google"),
    path("local/", local_logs.local_logs_page, name="local_logs"),
    path("local/upload", local_logs.local_logs_upload, name="local_logs_upload"),
    path("local/demo.json", local_logs.local_logs_demo, name="local_logs_demo"),
    path("live/", live.live_page, name="live"),
    path("live/add/", live.live_add, name="live_add"),
    path("<uuid:source_id>/live/rotate/", live.live_rotate, name="live_rotate"),
    path("<uuid:source_id>/live/billing/", live.live_billing, name="live_billing"),
    path("<uuid:source_id>/replace/", sources.source_replace, name="replace"),
    path("<uuid:source_id>/rename/", sources.source_rename, name="rename"),
    path("<uuid:source_id>/remove/", sources.source_remove, name="remove"),
    path("<uuid:source_id>/sample/", sources.source_sample, name="sample"),
]
