"""Cursor as a kind of source: an Enterprise team's Admin API key, pulled usage events."""

from __future__ import annotations

import httpx

from connectors.cursor import client
from connectors.errors import ConnectorError
from connectors.interface import Connector, Delivery, Report, SourceKind, ValidatedKey

CREATE_KEY = (
    "create an Admin API key in the Cursor dashboard → Settings → Advanced → Admin API Keys "
    "(team admins of an Enterprise team; the key needs the admin:* scope)"
)


def key_shape_problem(key: str) -> str | None:
    if key.startswith("sk-ant-"):
        return "This is an Anthropic key. Choose Anthropic as the vendor."
    if key.startswith("sk-"):
        return "This looks like an OpenAI key. Choose OpenAI as the vendor."
    if key.startswith("AIza") or key.startswith("ya29."):
        return "This is a Google key. Cursor needs a Cursor Admin API key."
    if not key.startswith(("key_", "crsr_")):
        return f"Cursor Admin API keys start with key_ or crsr_; {CREATE_KEY}."
    return None


def rejection_message(error: ConnectorError) -> str | None:
    """The inline message for refusals only Cursor's answers can explain."""
    reason = client.forbidden_reason(error)
    if reason == client.NOT_ENTERPRISE:
        return (
            "Cursor accepted the key, but its Admin API is only open to Enterprise teams (403). "
            "Upgrade the team to Enterprise, or use a key of an Enterprise team. Nothing was "
            "stored."
        )
    if reason == client.NO_ADMIN_SCOPE:
        return (
            "Cursor accepted the key, but it lacks the admin scope needed to read the team's "
            f"usage (403). Ask a team admin to {CREATE_KEY}. Nothing was stored."
        )
    if error.kind == "forbidden":
        return (
            "Cursor accepted the key but refused to show the team (403): the Admin API needs an "
            f"Enterprise team and a key with the admin:* scope — {CREATE_KEY}."
        )
    if error.kind == "unauthorized":
        return (
            "Cursor does not know this key (401): it was revoked, deleted or mistyped. Check you "
            f"copied the whole key, or {CREATE_KEY}. Nothing was stored."
        )
    return None


def validate(http: httpx.Client, key: str) -> ValidatedKey:
    """One live check (the team's members); the member count labels the source."""
    members = client.validate_key(http, key)
    noun = "member" if members == 1 else "members"
    return ValidatedKey(key=key, label=f"Cursor · {members} {noun}")


CONNECTOR = Connector(
    id="cursor",
    name="Cursor",
    kind=SourceKind.ADMIN_KEY,
    delivery=Delivery.PULLED,
    sees="Token usage per request of every team member, summed per day and model, and what "
    "the team was charged per day (Cursor's fee included). Enterprise teams only.",
    base_url_setting="CURSOR_API_BASE_URL",
    key_shape_problem=key_shape_problem,
    create_key_help=CREATE_KEY,
    validate=validate,
    explain_rejection=rejection_message,
    # One endpoint carries both tokens and money: its records are usage and spend at once.
    usage=Report(fetch=client.fetch_events, max_days=client.EVENTS_MAX_DAYS),
    spend_in_usage=True,
)
