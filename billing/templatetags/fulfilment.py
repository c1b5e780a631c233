"""Proof blocks other pages include: the account's removal so far, the climate product."""

from django import template

from billing.proof import climate_product, removal_so_far

register = template.Library()


@register.simple_tag
def account_removal(account):
    """The account's removal so far (tenant-scoped: the account comes from the request)."""
    return removal_so_far(account=account) if account is not None else None


@register.simple_tag
def fulfilment_product():
    return climate_product()
