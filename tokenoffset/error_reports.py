"""Error reports (the 500 emails to ADMIN_EMAILS, the DEBUG error page) that never show a secret.

Django hides a POST field only when the view was decorated with ``sensitive_post_parameters``,
and a setting only when its *name* looks secret. A request that fails before its view runs (a
database blip in a middleware) therefore reported its raw POST, pasted admin key included, and
``REDIS_URL``-style settings showed their passwords. Here, for every report:

- a POST field, cookie, header, setting, dictionary entry or local variable whose name looks
  secret (key, token, password, secret, auth, …) is replaced by stars;
- any other value shaped like a vendor or Stripe key, a private key block or a URL with a
  password is masked (``connectors.redaction``, the same patterns the logs use);
- the rendered report (text and HTML) goes through the same masking once more, which also
  covers the exception message and the query string.
"""

import re
from pprint import pformat

from django.utils.datastructures import MultiValueDict
from django.utils.regex_helper import _lazy_re_compile
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from connectors.redaction import has_secret, redact_secrets

# Names that mark a value as secret: Django's list, plus credentials and private keys.
_SECRET_NAMES = "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|PRIVATE"  # noqa: S105


class _Masked:
    """A frame variable whose representation had a secret in it: shown masked."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = _lazy_re_compile(_SECRET_NAMES, flags=re.I)

    def is_active(self, request) -> bool:
        # Also with DEBUG=true: a key on a developer's screen is still a key.
        return True

    def _is_secret_name(self, name) -> bool:
        return isinstance(name, str) and bool(self.hidden_settings.search(name))

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return redact_secrets(cleansed)
        return cleansed

    def _cleansed_multivaluedict(self, multivaluedict: MultiValueDict) -> MultiValueDict:
        cleansed = multivaluedict.copy()
        for name, values in multivaluedict.lists():
            if self._is_secret_name(name) or any(has_secret(str(v)) for v in values):
                cleansed.setlist(name, [self.cleansed_substitute] * len(values))
        return cleansed

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        return self._cleansed_multivaluedict(
            super().get_cleansed_multivaluedict(request, multivaluedict)
        )

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self._cleansed_multivaluedict(super().get_post_parameters(request))

    def get_traceback_frame_variables(self, request, tb_frame):
        cleansed = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if self._is_secret_name(name):
                value = self.cleansed_substitute
            elif isinstance(value, dict | list | tuple | str):
                value = self.cleanse_setting("", value)
            cleansed[name] = self._masked_if_secret(value)
        return cleansed.items()

    def _masked_if_secret(self, value):
        if isinstance(value, str):
            return redact_secrets(value)
        try:
            text = pformat(value)
        except Exception:  # noqa: BLE001 - the reporter shows its own "Error in formatting"
            return value
        return _Masked(redact_secrets(text)) if has_secret(text) else value


class SecretsExceptionReporter(ExceptionReporter):
    """The last net: whatever the report renders is masked once more."""

    def get_traceback_html(self):
        return redact_secrets(super().get_traceback_html())

    def get_traceback_text(self):
        return redact_secrets(super().get_traceback_text())
