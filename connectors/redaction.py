"""Defence in depth: mask anything shaped like a vendor or Stripe secret, and URL passwords.

Keys are never logged on purpose; this catches the accident (an exception message that quotes
a header, a debug print left behind). The same patterns scrub log records (the filter below),
error reports emailed to the admins (``tokenoffset.error_reports``) and the worker's logging
(``tokenoffset.celery``), so there is one list of shapes to keep up to date.
"""

import logging
import re

SECRET_PATTERN = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{6,}"  # Anthropic (admin and standard)
    r"|sk-(?:admin|proj|svcacct|None)-[A-Za-z0-9_\-]{6,}"  # OpenAI
    r"|sk-[A-Za-z0-9]{20,}"  # legacy OpenAI
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{6,}"  # Stripe secret / restricted keys
    r"|whsec_[A-Za-z0-9]{6,}"  # Stripe webhook secrets
    r"|crsr_[A-Za-z0-9_\-]{16,}"  # Cursor admin keys (current format)
    r"|key_[A-Fa-f0-9]{32,}"  # Cursor admin keys (older format: 64 hex characters)
    r"|ya29\.[A-Za-z0-9_\-.~]{10,}"  # Google OAuth access tokens
    r"|tkol_[A-Za-z0-9_\-]{16,}"  # our live sources' ingest tokens
    # A PEM private key (a Google service-account JSON holds one), raw or JSON-escaped; an
    # unterminated block is masked to its last base64 character.
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\+n)*"
    r"(?:-----END [A-Z ]*PRIVATE KEY-----)?)"
)
# scheme://user:password@host: the password part (brokers, caches, databases, SMTP).
URL_PASSWORD_PATTERN = re.compile(
    r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s'\"]*:)(?P<password>[^@/\s'\"]+)@"
)
URL_PASSWORD_MASK = "********"  # noqa: S105 - the mask, not a password


def redact_secrets(text: str) -> str:
    """Mask every secret-shaped string and every password inside a URL in text."""
    text = SECRET_PATTERN.sub(lambda m: m.group(0)[:6] + "…[redacted]", text)
    return URL_PASSWORD_PATTERN.sub(rf"\g<prefix>{URL_PASSWORD_MASK}@", text)


def has_secret(text: str) -> bool:
    return redact_secrets(text) != text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the rendered message of every record so no secret-shaped string survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = redact_secrets(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def install_redaction(logger: logging.Logger) -> None:
    """Put the filter on every handler of logger (once): handler filters also see the records
    that propagate from child loggers, which logger filters do not."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
            handler.addFilter(RedactSecretsFilter())
