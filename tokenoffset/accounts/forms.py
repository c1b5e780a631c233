from django import forms


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


class AccountRenameForm(forms.Form):
    name = forms.CharField(label="Account name", max_length=100)
