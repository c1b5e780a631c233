from decimal import Decimal

from django import forms

from .selectors import MAX_CUSTOM_CENTS, band_offers, cents, floor_cents


class BandSelectForm(forms.Form):
    """Which band to confirm (from the band picker)."""

    band = forms.CharField(max_length=20)

    def clean_band(self):
        slug = self.cleaned_data["band"]
        if slug not in {offer.band.slug for offer in band_offers()}:
            raise forms.ValidationError("Choose one of the bands.")
        return slug


class BandChooseForm(BandSelectForm):
    """The confirmation: the band and the price the owner saw."""

    band = forms.CharField(max_length=20, widget=forms.HiddenInput)
    expected_price_cents = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class CustomAmountForm(forms.Form):
    amount_usd = forms.DecimalField(
        label="Monthly amount (USD)",
        max_digits=8,
        decimal_places=2,
    )

    def clean_amount_usd(self):
        amount = self.cleaned_data["amount_usd"]
        floor, ceiling = floor_cents(), MAX_CUSTOM_CENTS
        if not floor <= cents(amount) <= ceiling:
            raise forms.ValidationError(
                f"Choose an amount from ${Decimal(floor) / 100:.2f} "
                f"to ${Decimal(ceiling) / 100:,.2f}."
            )
        return amount

    @property
    def amount_cents(self) -> int:
        return cents(self.cleaned_data["amount_usd"])


class CustomConfirmForm(CustomAmountForm):
    amount_usd = forms.DecimalField(max_digits=8, decimal_places=2, widget=forms.HiddenInput)


class EstimateAdoptForm(forms.Form):
    expected_price_cents = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
