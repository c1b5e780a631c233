"""Every kind of source, registered once: adding one is its package plus one line here."""

from __future__ import annotations

from connectors.anthropic.connector import CONNECTOR as ANTHROPIC
from connectors.cursor.connector import CONNECTOR as CURSOR
from connectors.google.connector import CONNECTOR as GOOGLE
from connectors.interface import Connector, SourceKind
from connectors.live.connector import CONNECTOR as LIVE
from connectors.local_logs.connector import CONNECTOR as LOCAL_LOGS
from connectors.openai.connector import CONNECTOR as OPENAI

CONNECTORS: dict[str, Connector] = {
    connector.id: connector
    for connector in (
        ANTHROPIC,
        OPENAI,
        CURSOR,
        GOOGLE,
        LOCAL_LOGS,
        LIVE,
    )
}


class UnknownSourceKind(LookupError):
    """No connector is registered under this id (a removed kind, or a typo)."""


def get(connector_id: str) -> Connector:
    """The connector registered under `connector_id` (EstimateSource.vendor)."""
    try:
        return CONNECTORS[connector_id]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise UnknownSourceKind(
            f"No kind of source is registered as {connector_id!r} (known: {known})"
        ) from None


def for_source(source) -> Connector:
    """The connector of an EstimateSource: pulled kinds by vendor, pushed kinds by kind."""
    if source.kind in (SourceKind.LOCAL_LOGS, SourceKind.LIVE):
        return get(str(source.kind))
    return get(str(source.vendor))


def pulled() -> list[Connector]:
    """The kinds whose data we fetch, in registration order."""
    return [connector for connector in CONNECTORS.values() if connector.pulled]
