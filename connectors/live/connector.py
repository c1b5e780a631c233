"""Claude Code and Codex exporting their own OpenTelemetry usage to us: a pushed kind.

The tools push OTLP/HTTP to /otlp/v1/metrics (Claude Code) and /otlp/v1/logs (Codex) with a
per-source bearer token; otlp.py decodes, points.py keeps only token counts, series.py makes
delta and cumulative points into increments. Nothing is fetched, so there is no report.
"""

from connectors.interface import Connector, Delivery, SourceKind

CONNECTOR = Connector(
    id="live",
    name="Live from Claude Code / Codex",
    kind=SourceKind.LIVE,
    delivery=Delivery.PUSHED,
    sees=(
        "Token counts per model as Claude Code (or Codex) reports them through its own "
        "OpenTelemetry export, from the moment it is switched on. Only counts, model and day "
        "are kept."
    ),
)
