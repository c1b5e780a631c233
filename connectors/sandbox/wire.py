"""The vendors' result-row shapes the sandbox serves, built from plain counts: pure functions.

References:
https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

from connectors.sandbox.catalogue import ANTHROPIC

ANTHROPIC_TOKEN_TYPES = {  # our count name -> (cost-report token_type, description suffix)
    "uncached": ("uncached_input_tokens", "Input Tokens"),
    "output": ("output_tokens", "Output Tokens"),
    "cache_read": ("cache_read_input_tokens", "Prompt Caching Read"),
    "write_5m": ("cache_creation.ephemeral_5m_input_tokens", "Prompt Caching Write (5m)"),
    "write_1h": ("cache_creation.ephemeral_1h_input_tokens", "Prompt Caching Write (1h)"),
}


def usage_row(vendor: str, dims: dict, counts: dict) -> dict:
    """One usage result row in the vendor's shape (OpenAI input_tokens include cached)."""
    if vendor == ANTHROPIC:
        return {
            "uncached_input_tokens": counts["uncached"],
            "cache_creation": {
                "ephemeral_5m_input_tokens": counts["write_5m"],
                "ephemeral_1h_input_tokens": counts["write_1h"],
            },
            "cache_read_input_tokens": counts["cache_read"],
            "output_tokens": counts["output"],
            "server_tool_use": {"web_search_requests": counts["web_search"]},
            "model": dims["model"],
            "service_tier": dims.get("service_tier", "standard"),
            "context_window": dims.get("context_window", "0-200k"),
            "inference_geo": "not_available",  # models released before Feb 2026
            "workspace_id": dims["workspace_id"],
            "api_key_id": dims["api_key_id"],
            "account_id": None,
            "service_account_id": None,
            "speed": "standard",
        }
    writes = counts["write_5m"] + counts["write_1h"]
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": counts["uncached"] + counts["cache_read"] + writes,  # includes cached
        "output_tokens": counts["output"],
        "input_cached_tokens": counts["cache_read"],
        "input_cache_write_tokens": writes,
        "input_uncached_tokens": counts["uncached"],
        "input_text_tokens": counts["uncached"],
        "output_text_tokens": counts["output"],
        "input_cached_text_tokens": counts["cache_read"],
        "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 0,
        "input_cached_image_tokens": 0,
        "output_image_tokens": 0,
        "num_model_requests": counts["requests"],
        "project_id": dims["project_id"],
        "user_id": dims["user_id"],
        "api_key_id": dims["api_key_id"],
        "model": dims["model"],
        "batch": dims.get("batch", False),
        "service_tier": dims.get("service_tier", "default"),
    }


def input_only_row(kind: str, dims: dict, counts: dict) -> dict:
    """One OpenAI embeddings or moderations result row: input tokens and requests only."""
    return {
        "object": f"organization.usage.{kind}.result",
        "input_tokens": counts["input"],
        "num_model_requests": counts["requests"],
        "project_id": dims["project_id"],
        "user_id": dims["user_id"],
        "api_key_id": dims["api_key_id"],
        "model": dims["model"],
    }


def anthropic_cost(workspace_id, description, cost_type, model, token_type, cents) -> dict:
    """One Anthropic cost result row; `amount` in cents."""
    token_cost = cost_type == "tokens"
    return {
        "amount": cents,
        "currency": "USD",
        "workspace_id": workspace_id,
        "description": description,
        "cost_type": cost_type,
        "model": model,
        "token_type": token_type,
        "service_tier": "standard" if token_cost else None,
        "context_window": "0-200k" if token_cost else None,
        "inference_geo": "not_available" if token_cost else None,
        "speed": "standard" if token_cost else None,
    }


def openai_cost(project_id, api_key_id, line_item, quantity, dollars, unit="tokens") -> dict:
    """One OpenAI cost result row; `amount.value` in dollars."""
    return {
        "object": "organization.costs.result",
        "amount": {"value": dollars, "currency": "usd"},
        "line_item": line_item,
        "project_id": project_id,
        "api_key_id": api_key_id,
        "quantity": quantity,
        "quantity_unit": unit,
    }
