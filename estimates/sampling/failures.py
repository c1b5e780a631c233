"""Every way a sample can fail, mapped to a message its owner can act on.

A sample that fails ends at once as failed, with one of these messages, and the previous rows
and estimate untouched; it never stays "running" until its lease runs out.
"""

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError
from django.utils import timezone

from connectors import services as connector_services
from connectors.crypto import DecryptionError
from connectors.errors import ConnectorError, ErrorKind
from connectors.redaction import redact_secrets
from estimates.models import Sample, SampleStatus
from tokenoffset.accounts.services import account_data_changed

from .claim import MAX_ATTEMPTS, sample_fail, sample_held
from .requests import key_replaced_since, sample_request_if_key_replaced

logger = logging.getLogger(__name__)

# What the vendor answered, by kind: {status} is the HTTP status, {detail} the client's message
# (only where it names a value of the report and never the key). A transient kind gets its
# message only once the sample ran out of attempts.
VENDOR_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.UNAUTHORIZED: "The vendor rejected the key ({status}).",
    ErrorKind.FORBIDDEN: "The vendor rejected the key ({status}).",
    ErrorKind.RATE_LIMITED: "The vendor kept rate-limiting us; we'll try again at the next sample.",
    ErrorKind.TIMEOUT: "The vendor did not answer in time; we'll try again at the next sample.",
    ErrorKind.SERVER: "The vendor's API had errors; we'll try again at the next sample.",
    ErrorKind.UNREACHABLE: "We could not reach the vendor; we'll try again at the next sample.",
    ErrorKind.MALFORMED: "The vendor sent a report we could not read. We have been told and "
    "will look.",
    ErrorKind.BAD_REQUEST: "The vendor refused our report request. We have been told and will "
    "look.",
    ErrorKind.PAGE_CAP: "The vendor's report did not end where expected. We have been told.",
    ErrorKind.OUT_OF_RANGE: "The vendor's report had a value out of range ({detail}). Your "
    "previous estimate is unchanged; we have been told and will look.",
}

# What the source's "needs attention" notice says about a rejected key.
REJECTED_KEY_DETAILS: dict[ErrorKind, str] = {
    ErrorKind.UNAUTHORIZED: "the key was revoked, expired or lost its admin permission",
    ErrorKind.FORBIDDEN: "the key may no longer read usage reports",
}

KEY_REPLACED_MESSAGE = "The key was replaced during the sample; sampling again with the new one."

# Failures that are not the vendor's answer, by exception type (first match wins).
EXCEPTION_MESSAGES: list[tuple[type[BaseException], str]] = [
    (
        SoftTimeLimitExceeded,
        "The sample took longer than the time limit and was stopped. Your previous estimate "
        "is unchanged; we'll try again at the next sample.",
    ),
    (
        DecryptionError,
        "Your stored key could not be decrypted — replace it under Estimate sources. Your "
        "previous estimate is unchanged.",
    ),
    (
        ImproperlyConfigured,
        "Stored keys cannot be read because of a configuration problem on our side. Your "
        "previous estimate is unchanged; we have been told and will look.",
    ),
    (
        DataError,
        "The vendor's report had a value too long or too large to store. Your previous "
        "estimate is unchanged; we have been told and will look.",
    ),
    (
        ArithmeticError,  # OverflowError, decimal.InvalidOperation
        "The vendor's report had a number out of range for our calculations. Your previous "
        "estimate is unchanged; we have been told and will look.",
    ),
]
UNEXPECTED_MESSAGE = "The sample failed unexpectedly. We have been told and will look."

LOST_WORKER_MESSAGE = (
    "The sample stopped without finishing (the worker running it was lost). Your previous "
    "estimate is unchanged; the next weekly sample will try again, or press Re-sample."
)


class RetryLater(Exception):
    """A transient vendor failure beyond the client's retry budget: retry the task later."""

    def __init__(self, countdown: float, message: str):
        super().__init__(message)
        self.countdown = countdown


def vendor_error_message(error: ConnectorError) -> str:
    """The owner's message for a vendor's answer."""
    return VENDOR_MESSAGES[error.kind].format(status=error.status, detail=error.message[:200])


def exception_message(error: BaseException) -> str | None:
    """The owner's message for a known failure that is not the vendor's answer, else None."""
    return next((m for kind, m in EXCEPTION_MESSAGES if isinstance(error, kind)), None)


def sample_end_on_vendor_error(sample: Sample, error: ConnectorError, *, key_used: bytes) -> Sample:
    """Fail the sample (or give it back to the queue for a transient error, ``RetryLater``)."""
    logger.warning("sample %s: vendor error %s", sample.public_id, error.kind)
    if error.permanent and key_replaced_since(sample, key_used):
        # Don't blame the new key for the old one's rejection.
        sample_fail(sample, KEY_REPLACED_MESSAGE)
        sample_request_if_key_replaced(sample=sample, key_used=key_used)
    elif error.permanent:
        sample_fail(sample, vendor_error_message(error), source_status=None)
        connector_services.source_mark_rejected(
            source=sample.source, detail=REJECTED_KEY_DETAILS[error.kind]
        )
    elif error.transient and sample.attempts < MAX_ATTEMPTS:
        # Give the sample back to the queue; the task retries after the vendor's wait.
        countdown = min(error.retry_after or 30 * sample.attempts, 600)
        sample_held(sample).update(
            status=SampleStatus.QUEUED,
            lease_expires_at=None,
            not_before=timezone.now() + timedelta(seconds=countdown),
        )
        account_data_changed(account_id=sample.account_id)
        raise RetryLater(countdown, error.message)
    else:
        sample_fail(sample, vendor_error_message(error))
        sample_request_if_key_replaced(sample=sample, key_used=key_used)
    sample.refresh_from_db()
    return sample


def sample_end_on_exception(sample: Sample, error: Exception, *, key_used: bytes) -> Sample:
    """End the sample as failed at once with a message the owner can act on; keep the data.

    Known failures return the failed sample; anything else is re-raised after failing the
    sample, so the worker records it too. Operators get the traceback in the (redacted) log.
    """
    message = exception_message(error)
    logger.error(
        "sample %s failed: %s",
        sample.public_id,
        redact_secrets(f"{type(error).__name__}: {error}"),
        exc_info=not isinstance(error, SoftTimeLimitExceeded | DecryptionError),
    )
    sample_fail(sample, message or UNEXPECTED_MESSAGE)
    sample_request_if_key_replaced(sample=sample, key_used=key_used)
    if message is None:
        raise error
    sample.refresh_from_db()
    return sample
