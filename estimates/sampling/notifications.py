"""Emails about samples."""

from django.conf import settings

from connectors.models import EstimateSource
from tokenoffset.accounts.emails import email_owners


def first_estimate_email(*, source: EstimateSource) -> None:
    """Tell the account's owners their first estimate is on the dashboard."""
    email_owners(
        account=source.account,
        subject="Your first estimate is ready",
        body=f"We sampled 90 days of “{source.label}”. Your estimate is on the dashboard: "
        f"{settings.SITE_URL}/\n\nNothing changes in what you pay until you adopt it.",
    )
