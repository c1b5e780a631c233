from .models import Membership


def current_account(request):
    """The navigation's account switcher: the current account and the user's other accounts."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}

    def other_memberships():
        return list(
            Membership.objects.filter(user=request.user)
            .exclude(pk=membership.pk)
            .select_related("account")
            .order_by("account__name")
        )

    return {
        "current_account": membership.account,
        "current_membership": membership,
        "is_owner": membership.is_owner,
        "other_memberships": other_memberships,  # called lazily by the template
    }
