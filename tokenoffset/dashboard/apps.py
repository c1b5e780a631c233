from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "tokenoffset.dashboard"
    label = "dashboard"
