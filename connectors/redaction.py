"""Defence in depth: a logging filter that masks anything shaped like a vendor or Stripe secret.

Keys are never logged on purpose; this catches the accident (an exception message that quotes
a header, a debug print left behind).
"""

import logging
import re

SECRET_PATTERN = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{6,}"  # Anthropic (admin and standard)
    r"|sk-(?:admin|proj|svcacct|None)-[A-Za-z0-9_\-]{6,}"  # OpenAI
    r"|sk-[A-Za-z0-9]{20,}"  # legacy OpenAI
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{6,}"  # Stripe secret / restricted keys
    r"|whsec_[A-Za-z0-9]{6,})"  # Stripe webhook secrets
)


def redact_secrets(text: str) -> str:
    return SECRET_PATTERN.sub(lambda m: m.group(0)[:6] + "…[redacted]", text)


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
