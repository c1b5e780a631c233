"""A saved or deleted user, membership or account changes what viewers' rows hold (``viewers``);
the services' data-version writes say so themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import viewers
from .models import Account, Membership, User


@receiver([post_save, post_delete], sender=User)
def _user_changed(sender, instance, **kwargs):
    viewers.users_changed([instance.pk])


@receiver([post_save, post_delete], sender=Membership)
def _membership_changed(sender, instance, **kwargs):
    viewers.users_changed([instance.user_id])
    # Its account's members too: a membership given to another user leaves the former one.
    viewers.accounts_changed([instance.account_id])


@receiver([post_save, post_delete], sender=Account)
def _account_changed(sender, instance, **kwargs):
    viewers.accounts_changed([instance.pk])
