"""Anthropic as a kind of source: an organisation Admin key, pulled reports."""

from __future__ import annotations

import httpx

from connectors.anthropic import client
from connectors.anthropic.coverage import COVERAGE
from connectors.interface import Connector, Delivery, Report, SourceKind, ValidatedKey


def key_shape_problem(key: str) -> str | None:
    if key.startswith("sk-") and not key.startswith("sk-ant-"):
        return "This looks like an OpenAI key. Choose OpenAI."
    return None


def looks_like_standard_key(key: str) -> bool:
    return key.startswith("sk-ant-") and not key.startswith("sk-ant-admin")


def validate(http: httpx.Client, key: str) -> ValidatedKey:
    """One live check; the organisation's name labels the source."""
    org = client.validate_key(http, key)
    return ValidatedKey(
        key=key, label=org.name or "Anthropic organisation", organization_id=org.id or ""
    )


def organization_id(http: httpx.Client, key: str) -> str:
    """The key's organisation id, matched against Claude Code telemetry's organization.id."""
    return client.get_organization(http, key, max_attempts=1).id or ""


CONNECTOR = Connector(
    id="anthropic",
    name="Anthropic",
    kind=SourceKind.ADMIN_KEY,
    delivery=Delivery.PULLED,
    sees="Token usage by model, service tier and context window, and spend by cost line, for "
    "every workspace of the organisation.",
    base_url_setting="ANTHROPIC_API_BASE_URL",
    key_shape_problem=key_shape_problem,
    looks_like_standard_key=looks_like_standard_key,
    create_key_help="create an Admin key in Console → Settings → Admin Keys",
    validate=validate,
    organization_id=organization_id,
    usage=Report(fetch=client.fetch_usage, max_days=client.USAGE_MAX_DAYS),
    spend=Report(fetch=client.fetch_costs, max_days=client.COSTS_MAX_DAYS),
    coverage=COVERAGE,
)
