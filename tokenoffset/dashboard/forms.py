from django import forms
from django.conf import settings

from connectors import registry
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
