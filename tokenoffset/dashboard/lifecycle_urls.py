"""Account lifecycle: export and deletion compose every app, so they live in the top layer."""

from django.urls import path

from . import lifecycle

app_name = "lifecycle"

urlpatterns = [
    path("<uuid:account_id>/export.json", lifecycle.export_json, name="export_json"),
    path("<uuid:account_id>/export.zip", lifecycle.export_csv, name="export_csv"),
    path("<uuid:account_id>/delete/", lifecycle.account_delete_view, name="delete"),
    path("goodbye/", lifecycle.goodbye, name="goodbye"),
]
