from django.urls import path

from billing import proof

from . import calculator, public

app_name = "public"

urlpatterns = [
    path("docs/methodology", public.methodology, name="methodology"),
    path("docs/sources", public.sources, name="sources"),
    path("privacy", public.privacy, name="privacy"),
    path("calculator", calculator.page, name="calculator"),
    path("impact", proof.impact, name="impact"),
]
