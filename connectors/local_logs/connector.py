"""Claude Code and Codex on the user's own computer: a pushed kind.

The browser reads the tools' transcripts (static/js/local-logs-parser.js) and sends daily totals
only; schema.py validates them. Nothing is fetched, so there is no credential and no report.
"""

from connectors.interface import Connector, Delivery, SourceKind

CONNECTOR = Connector(
    id="local_logs",
    name="Claude Code and Codex on this computer",
    kind=SourceKind.LOCAL_LOGS,
    delivery=Delivery.PUSHED,
    sees=(
        "Daily token totals per model of Claude Code and Codex, read in your browser from the "
        "transcripts still on this computer. No prompts, paths or ids are sent."
    ),
)
