"""Live sources: create one with its ingest token, rotate the token, find a token's source."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connectors.models import EstimateSource, KeyEvent, KeyEventKind, Kind, SourceStatus
from tokenoffset.accounts.models import Account, User
from tokenoffset.accounts.services import account_data_changed

from .models import LiveSource, Tool
from .tokens import NewToken, bearer_token, digests_equal, token_digest, token_new

TOOL_VENDORS = {Tool.CLAUDE_CODE: "anthropic", Tool.CODEX: "openai"}


def _event(source: EstimateSource, kind: str, user: User | None, hint: str) -> None:
    KeyEvent.objects.create(
        account_id=source.account_id,
        source=source,
        source_public_id=source.public_id,
        source_label=source.label,
        vendor=source.vendor,
        key_hint=hint,
        kind=kind,
        actor=user,
        detail="live ingest token",
    )


def live_source_create(
    *, account: Account, user: User, tool: str, billing: str, label: str = ""
) -> tuple[EstimateSource, NewToken]:
    """A live source of the tool's maker and its token (the raw token is returned once)."""
    token = token_new()
    with transaction.atomic():
        source = EstimateSource.objects.create(
            account=account,
            kind=Kind.LIVE,
            vendor=TOOL_VENDORS[Tool(tool)],
            label=(label.strip() or f"{Tool(tool).label} (live)")[:100],
            key_ciphertext=b"",
            key_hint=token.hint,
            status=SourceStatus.PENDING,  # until the first point arrives
            created_by=user,
        )
        LiveSource.objects.create(
            source=source,
            tool=tool,
            token_digest=token.digest,
            token_hint=token.hint,
            billing=billing,
        )
        _event(source, KeyEventKind.ADDED, user, token.hint)
        account_data_changed(account_id=account.pk)
    return source, token


def live_token_rotate(*, source: EstimateSource, user: User) -> NewToken:
    """A new token for the source; the old one stops working at once."""
    token = token_new()
    with transaction.atomic():
        LiveSource.objects.filter(source=source).update(
            token_digest=token.digest, token_hint=token.hint, token_rotated_at=timezone.now()
        )
        EstimateSource.objects.filter(pk=source.pk).update(key_hint=token.hint)
        source.key_hint = token.hint
        _event(source, KeyEventKind.REPLACED, user, token.hint)
    return token


def live_billing_set(*, source: EstimateSource, billing: str) -> None:
    LiveSource.objects.filter(source=source).update(billing=billing)
    account_data_changed(account_id=source.account_id)


def live_source_for_header(authorization: str) -> LiveSource | None:
    """The live source an ``Authorization: Bearer`` header belongs to, or None."""
    raw = bearer_token(authorization)
    if raw is None:
        return None
    digest = token_digest(raw)
    # Looked up by digest through the unique index; the raw token is never compared.
    live = LiveSource.objects.select_related("source").filter(token_digest=digest).first()
    if live is None or not digests_equal(live.token_digest, digest):
        return None
    return live
