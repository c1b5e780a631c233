from django.urls import path

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
]
