"""The settings a live source's page shows once: environment variables, managed settings, Codex.

References: https://code.claude.com/docs/en/monitoring-usage (Claude Code has no default
protocol, so one is set; the SDK appends /v1/metrics to the base endpoint) and
https://github.com/openai/codex/blob/main/docs/config.md (Codex uses its endpoint as written,
so the full /otlp/v1/logs URL is given).
"""

from __future__ import annotations

import json


def claude_env(site: str, token: str) -> dict[str, str]:
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"{site}/otlp",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {token}",
    }


def claude_shell(site: str, token: str) -> str:
    return "\n".join(f'export {k}="{v}"' for k, v in claude_env(site, token).items())


def claude_managed_settings(site: str, token: str) -> str:
    return json.dumps({"env": claude_env(site, token)}, indent=2)


def codex_toml(site: str, token: str) -> str:
    return (
        "[otel]\n"
        f'exporter = {{ otlp-http = {{ endpoint = "{site}/otlp/v1/logs", protocol = "binary", '
        f'headers = {{ "Authorization" = "Bearer {token}" }} }} }}\n'
    )


def snippets(tool: str, site: str, token: str) -> list[dict[str, str]]:
    """[{id, title, text}] for the tool, in the order the page shows them."""
    site = site.rstrip("/")
    if tool == "codex":
        return [
            {"id": "codex-toml", "title": "~/.codex/config.toml", "text": codex_toml(site, token)}
        ]
    return [
        {"id": "claude-env", "title": "Environment variables", "text": claude_shell(site, token)},
        {
            "id": "claude-managed",
            "title": "Managed settings (teams)",
            "text": claude_managed_settings(site, token),
        },
    ]
