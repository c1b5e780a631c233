"""Estimate sources: adding, replacing, renaming and removing keys, and the key events."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tokenoffset.accounts.emails import email_owners
from tokenoffset.accounts.models import Account, User
from tokenoffset.accounts.ratelimits import limit_exceeded
from tokenoffset.accounts.services import account_data_changed

from . import crypto, registry
from .keys import KeyRejected, key_shape_check, key_validate
from .models import EstimateSource, KeyEvent, KeyEventKind, SourceStatus

logger = logging.getLogger(__name__)

# Per account, per user and per client address, so the add/replace form is no oracle for
# testing stolen keys: accounts are free, so a per-account limit alone stops nobody.
VALIDATION_ATTEMPTS = 10  # per account, and per user
VALIDATION_ATTEMPTS_PER_CLIENT = 20  # per client address (an office shares one)
VALIDATION_WINDOW_SECONDS = 15 * 60


class ValidationRateLimited(KeyRejected):
    pass


def _validation_rate_limit(*, account: Account, user: User | None, client: str) -> None:
    limits = [(f"key-validation:{account.public_id}", VALIDATION_ATTEMPTS, "this account")]
    if user is not None:
        limits.append((f"key-validation:user:{user.pk}", VALIDATION_ATTEMPTS, "your login"))
    if client:
        limits.append(
            (f"key-validation:client:{client}", VALIDATION_ATTEMPTS_PER_CLIENT, "your network")
        )
    for cache_key, allowed, whose in limits:
        if limit_exceeded(cache_key, limit=allowed, window_seconds=VALIDATION_WINDOW_SECONDS):
            raise ValidationRateLimited(
                f"Too many key checks for {whose} ({allowed} per "
                f"{VALIDATION_WINDOW_SECONDS // 60} minutes). Try again later.",
                retry_after=VALIDATION_WINDOW_SECONDS,
            )


def _checked_key(
    *, account: Account, user: User | None, client: str, vendor: str, raw_key: str, is_sandbox: bool
):
    key = key_shape_check(vendor, raw_key)
    _validation_rate_limit(account=account, user=user, client=client)
    return key_validate(vendor, key, is_sandbox=is_sandbox)


def _notify_owners(account: Account, subject: str, body: str) -> None:
    email_owners(account=account, subject=subject, body=body)


def _record_event(source: EstimateSource, kind: str, actor: User | None, detail: str = ""):
    return KeyEvent.objects.create(
        account_id=source.account_id,
        source=source if kind != KeyEventKind.REMOVED else None,
        source_public_id=source.public_id,
        source_label=source.label,
        vendor=source.vendor,
        key_hint=source.key_hint,
        kind=kind,
        actor=actor,
        detail=detail[:300],
    )


def source_create(
    *,
    account: Account,
    user: User,
    vendor: str,
    raw_key: str,
    is_sandbox: bool = False,
    client: str = "",
) -> EstimateSource:
    """Validate a pasted key live and store it encrypted; nothing is stored if it fails.

    ``client`` is the request's client address (``client_bucket``), for the per-client limit.
    """
    validated = _checked_key(
        account=account,
        user=user,
        client=client,
        vendor=vendor,
        raw_key=raw_key,
        is_sandbox=is_sandbox,
    )
    public_id = uuid.uuid4()  # assigned before encrypting: the ciphertext is bound to it
    with transaction.atomic():
        source = EstimateSource.objects.create(
            account=account,
            public_id=public_id,
            kind=registry.get(vendor).kind,
            vendor=vendor,
            label=validated.label,
            key_ciphertext=crypto.encrypt(validated.key, source_public_id=public_id),
            key_hint=validated.hint or validated.key[-4:],
            organization_id=validated.organization_id[:100],
            is_sandbox=is_sandbox,
            created_by=user,
        )
        _record_event(source, KeyEventKind.ADDED, user)
        account_data_changed(account_id=account.pk)
    _notify_owners(
        account,
        f"A {source.get_vendor_display()} key was added",
        f"{user.email} connected “{source.label}” (key ending {source.key_hint}) to "
        f"{account.name} on {timezone.now():%Y-%m-%d %H:%M} UTC.\n\n"
        "If this wasn't expected, remove it under Estimate sources and revoke the key "
        "in the vendor's console.",
    )
    return source


def source_replace_key(
    *, source: EstimateSource, user: User, raw_key: str, client: str = ""
) -> EstimateSource:
    """Validate a new key for an existing source and swap it in; the old key is gone."""
    validated = _checked_key(
        account=source.account,
        user=user,
        client=client,
        vendor=source.vendor,
        raw_key=raw_key,
        is_sandbox=source.is_sandbox,
    )
    with transaction.atomic():
        # The vendor check took seconds: a sample or a rename may have changed the row since
        # `source` was read. Re-read it under a lock and write only the key's own fields.
        source = EstimateSource.objects.select_for_update().get(pk=source.pk)
        source.key_ciphertext = crypto.encrypt(validated.key, source_public_id=source.public_id)
        source.key_hint = validated.hint or validated.key[-4:]
        source.last_error = ""
        source.attention_notified_at = None
        source.organization_id = validated.organization_id[:100]
        fields = ["key_ciphertext", "key_hint", "last_error", "attention_notified_at", "updated_at"]
        fields.append("organization_id")
        if source.status in (SourceStatus.NEEDS_ATTENTION, SourceStatus.FAILED):
            source.status = SourceStatus.PENDING
            fields.append("status")
        source.save(update_fields=fields)
        _record_event(source, KeyEventKind.REPLACED, user)
        account_data_changed(account_id=source.account_id)
    return source


def source_rename(*, source: EstimateSource, label: str) -> EstimateSource:
    """Give a source a name of the owner's choosing."""
    source.label = label.strip()[:100]
    source.save(update_fields=["label", "updated_at"])
    account_data_changed(account_id=source.account_id)
    return source


def source_remove(*, source: EstimateSource, user: User) -> None:
    """Delete the source and its key at once (samples and daily rows go with it)."""
    account = source.account
    with transaction.atomic():
        _record_event(source, KeyEventKind.REMOVED, user)
        source.delete()
        account_data_changed(account_id=account.pk)
    _notify_owners(
        account,
        f"A {source.get_vendor_display()} key was removed",
        f"{user.email} removed “{source.label}” (key ending {source.key_hint}) from "
        f"{account.name}. We deleted the key at once. Revoke it in the vendor's console too if "
        "you no longer use it.",
    )


def source_api_key(source: EstimateSource) -> str:
    """The decrypted key, for the one vendor call that needs it (inside the worker)."""
    return crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id)


def source_organization_remember(*, source: EstimateSource, organization_id: str) -> None:
    """Keep the id of the source's organisation, learnt at a sample (sources added before it
    was stored get it this way)."""
    EstimateSource.objects.filter(pk=source.pk).update(organization_id=organization_id[:100])


def source_mark_rejected(*, source: EstimateSource, detail: str) -> None:
    """The vendor rejected the key during a sample: needs attention, owners emailed once."""
    with transaction.atomic():
        source = EstimateSource.objects.select_for_update().get(pk=source.pk)
        first_time = source.attention_notified_at is None
        source.status = SourceStatus.NEEDS_ATTENTION
        source.last_error = detail
        if first_time:
            source.attention_notified_at = timezone.now()
        source.save(update_fields=["status", "last_error", "attention_notified_at", "updated_at"])
        if first_time:
            _record_event(source, KeyEventKind.REJECTED, None, detail)
        account_data_changed(account_id=source.account_id)
    if first_time:
        _notify_owners(
            source.account,
            f"{source.label} needs a new key",
            f"{source.get_vendor_display()} rejected the key ending {source.key_hint} for "
            f"“{source.label}”: {detail}\n\nReplace the key: {settings.SITE_URL}"
            f"{reverse('sources:replace', args=[source.public_id])}\n\n"
            "Your offset and its price are unchanged.",
        )
