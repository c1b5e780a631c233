from django import forms

from .validators import validate_no_control_characters


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


class AccountRenameForm(forms.Form):
    name = forms.CharField(
        label="Account name", max_length=100, validators=[validate_no_control_characters]
    )
