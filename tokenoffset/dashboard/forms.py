from django import forms
from django.conf import settings

from connectors import registry
from connectors.google.credentials import (
    MAX_UPLOAD_CHARS,
    CredentialProblem,
    credential_from_upload,
)
from connectors.interface import SourceKind
from tokenoffset.accounts.validators import validate_no_control_characters


class KeyField(forms.CharField):
    """A pasted key: never rendered back into the page, not even after an error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Admin key")
        kwargs.setdefault("max_length", 4000)  # the shape check gives the precise message
        kwargs.setdefault("strip", False)  # the shape check strips and explains
        kwargs.setdefault(
            "widget",
            forms.PasswordInput(
                render_value=False,
                attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
            ),
        )
        super().__init__(**kwargs)


def admin_key_vendors() -> list[tuple[str, str]]:
    """The vendors an admin key can be pasted for: every registered admin-key kind."""
    return [(c.id, c.name) for c in registry.pulled() if c.kind == SourceKind.ADMIN_KEY]


class SourceAddForm(forms.Form):
    vendor = forms.ChoiceField(choices=admin_key_vendors, widget=forms.RadioSelect)
    api_key = KeyField(required=False)
    sandbox = forms.BooleanField(
        required=False,
        label="Sandbox (demo data)",
        help_text="Local development only: use a sandbox key listed in the README.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.VENDOR_SANDBOX_URL:
            del self.fields["sandbox"]


class KeyReplaceForm(forms.Form):
    api_key = KeyField(required=False, label="New admin key")


class SourceRenameForm(forms.Form):
    label = forms.CharField(
        max_length=100, label="Name", validators=[validate_no_control_characters]
    )


class SecretTextarea(forms.Textarea):
    """A pasted key file: never rendered back into the page, not even after an error."""

    def format_value(self, value):
        return None


class GoogleCredentialForm(forms.Form):
    """A service-account JSON key (uploaded or pasted) and the project ids to read."""

    key_file = forms.FileField(required=False, label="Service-account key file (JSON)")
    key_json = forms.CharField(
        required=False,
        strip=False,
        label="… or paste its contents",
        max_length=MAX_UPLOAD_CHARS,
        widget=SecretTextarea(
            attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )
    project_ids = forms.CharField(
        required=False,
        max_length=1000,
        label="Project ids",
        help_text="Separated by commas or spaces. Empty: the project_id named in the key file.",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("key_file")
        raw = cleaned.get("key_json") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD_CHARS:
                self.add_error("key_file", "That file is far too large for a key file.")
                return cleaned
            try:
                raw = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("key_file", "That file is not a JSON key file (not UTF-8 text).")
                return cleaned
        try:
            credential = credential_from_upload(raw, cleaned.get("project_ids") or "")
        except CredentialProblem as problem:
            self.add_error("key_json", problem.message)
        else:
            cleaned["credential"] = credential.dumps()
        return cleaned


class GoogleSourceAddForm(GoogleCredentialForm):
    sandbox = forms.BooleanField(
        required=False,
        label="Sandbox (demo data)",
        help_text="Local development only: use a sandbox key file downloaded below.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.VENDOR_SANDBOX_URL:
            del self.fields["sandbox"]
