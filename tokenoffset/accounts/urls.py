from django.urls import path

from tokenoffset.dashboard import lifecycle

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("rename/", views.account_rename, name="rename"),
    path("switch/<uuid:account_id>/", views.account_switch, name="switch"),
    path("invitations/", views.invitation_create, name="invitation_create"),
    path(
        "invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/accept/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("members/<uuid:membership_id>/remove/", views.member_remove, name="member_remove"),
    # Account lifecycle (composes every app, so the views live in the dashboard package).
    path("<uuid:account_id>/export.json", lifecycle.export_json, name="export_json"),
    path("<uuid:account_id>/export.zip", lifecycle.export_csv, name="export_csv"),
    path("<uuid:account_id>/delete/", lifecycle.account_delete_view, name="delete"),
    path("goodbye/", lifecycle.goodbye, name="goodbye"),
]
