from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.billing_home, name="home"),
    path("band/confirm/", views.band_confirm, name="band_confirm"),
    path("band/", views.band_choose, name="band_choose"),
    path("custom/confirm/", views.custom_confirm, name="custom_confirm"),
    path("custom/", views.custom_set, name="custom_set"),
    path("estimate/confirm/", views.estimate_confirm, name="estimate_confirm"),
    path("estimate/", views.estimate_adopt, name="estimate_adopt"),
    path("changes/<uuid:change_id>/", views.change_detail, name="change_detail"),
    path("subscribe/", views.checkout_start, name="checkout_start"),
    path("subscribe/success/", views.checkout_success, name="checkout_success"),
    path("subscribe/cancelled/", views.checkout_cancel, name="checkout_cancel"),
    path("manage/", views.portal_start, name="portal_start"),
    path("alerts/usage/", views.usage_alert_toggle, name="usage_alert_toggle"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
]
