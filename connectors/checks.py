"""System checks: a bad TOKENOFFSET_ENCRYPTION_KEYS stops start-up (``check``, ``migrate``,
``runserver``) with a clear message, instead of a 500 on the first key added."""

from django.conf import settings
from django.core import checks

from . import crypto


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    value = settings.TOKENOFFSET_ENCRYPTION_KEYS or ""
    hint = crypto.GENERATE_HINT
    if settings.DEBUG and not value.strip():
        hint = "In development, run `python manage.py dev_encryption_key` (make run does)."
    return [
        checks.Error(problem.message, hint=hint, id=f"connectors.{problem.code}")
        for problem in crypto.key_config_problems(value)
    ]
