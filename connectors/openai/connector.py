"""OpenAI as a kind of source: an organisation Admin key, pulled reports."""

from __future__ import annotations

import httpx

from connectors.interface import Connector, Delivery, Report, SourceKind, ValidatedKey
from connectors.openai import client
from connectors.openai.coverage import COVERAGE


def key_shape_problem(key: str) -> str | None:
    if key.startswith("sk-ant-"):
        return "This is an Anthropic key. Choose Anthropic as the vendor."
    return None


def looks_like_standard_key(key: str) -> bool:
    return key.startswith("sk-") and not key.startswith("sk-admin-")


def validate(http: httpx.Client, key: str) -> ValidatedKey:
    """One live check; OpenAI has no organisation name to show, so the key's last four do."""
    client.validate_key(http, key)
    return ValidatedKey(key=key, label=f"OpenAI ••••{key[-4:]}")


CONNECTOR = Connector(
    id="openai",
    name="OpenAI",
    kind=SourceKind.ADMIN_KEY,
    delivery=Delivery.PULLED,
    sees="Completions token usage by model, service tier and batch, embeddings and moderations "
    "token usage by model, and spend by line item, for every project of the organisation.",
    base_url_setting="OPENAI_API_BASE_URL",
    key_shape_problem=key_shape_problem,
    looks_like_standard_key=looks_like_standard_key,
    create_key_help=(
        "create an Admin key in Settings → Organization → Admin keys "
        "(organization owners only; a restricted key with only api.usage.read is enough)"
    ),
    validate=validate,
    # Completions, embeddings and moderations: three endpoints, requested side by side.
    usage=Report(fetch=client.fetch_completions, max_days=client.USAGE_MAX_DAYS),
    more_usage={
        "embeddings": Report(fetch=client.fetch_embeddings, max_days=client.USAGE_MAX_DAYS),
        "moderations": Report(fetch=client.fetch_moderations, max_days=client.USAGE_MAX_DAYS),
    },
    spend=Report(fetch=client.fetch_costs, max_days=client.COSTS_MAX_DAYS),
    coverage=COVERAGE,
)
