"""Logging for every process (web and worker): secrets are redacted before any handler writes.

Kept apart from settings.py, which only reads the environment; this is static structure.
"""


def logging_config(*, level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "filters": {"redact_secrets": {"()": "connectors.redaction.RedactSecretsFilter"}},
        "handlers": {  # both redact secrets (the worker adds the filter to Celery's own handlers)
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["redact_secrets"],
            },
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["redact_secrets"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            # Replaces Django's default handlers on "django" (a second, unfiltered mail_admins):
            # its records go to the root console, and each error report is emailed once, below.
            "django": {"handlers": []},
            "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": True},
        },
    }
