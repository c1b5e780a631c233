"""Emails to people: a failed delivery is logged, never allowed to undo the action it reports."""

import logging

from django.core.mail import send_mail

from .models import Account, Role
from .validators import one_line

logger = logging.getLogger(__name__)


def email_send(*, subject: str, body: str, recipients: list[str]) -> bool:
    """Send one plain-text email; False (and an error in the log) when delivery failed."""
    if not recipients:
        return False
    # Names in subjects are checked where people type them; anything else (a vendor's
    # organisation name) is put on one line here, as a line break would drop the email.
    subject = one_line(subject)
    try:
        send_mail(f"[Token Offset] {subject}", body, None, recipients)
    except Exception:  # noqa: BLE001 - SMTP trouble must not break the request or the task
        logger.exception("could not send %r to %d recipient(s)", subject, len(recipients))
        return False
    return True


def email_owners(*, account: Account, subject: str, body: str) -> bool:
    """Email every owner of the account."""
    owners = list(account.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True))
    return email_send(subject=subject, body=body, recipients=owners)
