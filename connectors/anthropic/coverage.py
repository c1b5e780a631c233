"""What an Anthropic source's footprint counts, and which cost lines are in its spend only.

The footprint reads the messages usage report: every token, web search results included (they
arrive as input tokens). The cost report also bills each web search and code execution, which
use no tokens we can see; its cost line says so in ``cost_type`` when grouped by description.
Priority Tier spend is never in the cost report, though its tokens are in the usage report.

Reference: https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.interface import Coverage

WEB_SEARCH, CODE_EXECUTION, OTHER = "web search", "code execution", "other"
_COST_TYPES = {"web_search": WEB_SEARCH, "code_execution": CODE_EXECUTION}


def left_out(description: str, fields: Mapping[str, str]) -> str | None:
    """The usage type a cost line pays for that the footprint leaves out, or None."""
    cost_type = fields.get("cost_type", "").lower()
    if cost_type == "tokens":
        return None
    if cost_type:
        return _COST_TYPES.get(cost_type, cost_type.replace("_", " ") or OTHER)
    # No cost_type (older payloads): read the description.
    text = description.lower()
    if "web search" in text:
        return WEB_SEARCH
    if "code execution" in text:
        return CODE_EXECUTION
    if "token" in text or "caching" in text:
        return None
    return OTHER


COVERAGE = Coverage(
    counted=("messages (every model and service tier, web search results included)",),
    spend_only=("web search fees", CODE_EXECUTION),
    left_out=left_out,
    tiers_without_spend=("priority", "priority_on_demand"),
    note="Priority Tier spend is not in Anthropic's cost report: its tokens are in the "
    "footprint, but the provider spend leaves it out.",
)
