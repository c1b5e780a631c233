"""System checks: a bad TOKENOFFSET_ENCRYPTION_KEYS stops start-up (``check``, ``migrate``,
``runserver``) with a clear message, instead of a 500 on the first key added."""

from django.conf import settings
from django.core import checks

from . import crypto


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    value = getattr(settings, "TOKENOFFSET_ENCRYPTION_KEYS", "") or ""
    return [
        checks.Error(problem.message, hint=crypto.GENERATE_HINT, id=f"connectors.{problem.code}")
        for problem in crypto.key_config_problems(value)
    ]
