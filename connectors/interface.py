"""What every kind of source declares to the registry (connectors/registry.py).

A kind is one package under connectors/ exposing one `Connector`: who it is, what it needs, how a
credential is checked, which reports it fetches (pulled kinds) and what it can see. Nothing here
knows a vendor; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

import httpx

from connectors.paging import OnPage


class SourceKind(StrEnum):
    """What the owner hands us (the `kind` of a source in the estimate API)."""

    ADMIN_KEY = "admin_key"
    SERVICE_ACCOUNT = "service_account"
    LOCAL_LOGS = "local_logs"
    LIVE = "live"


class Delivery(StrEnum):
    PULLED = "pulled"  # we fetch the vendor's reports with the stored credential
    PUSHED = "pushed"  # the owner's tools send us daily totals or telemetry


@dataclass(frozen=True)
class ValidatedKey:
    key: str = field(repr=False)  # never in a repr, a log line or an error report's locals
    label: str
    hint: str = ""  # shown to people; the key's last four characters when empty
    organization_id: str = ""  # the vendor's id of the key's organisation, where it tells one


class FetchReport(Protocol):
    def __call__(
        self, client: httpx.Client, key: str, start: date, end: date, *, on_page: OnPage | None
    ) -> list[Any]: ...


@dataclass(frozen=True)
class Report:
    """One report of a pulled kind: records for [start, end) over the HTTP seam (usage or cost
    records, or both when one vendor call carries both)."""

    fetch: FetchReport
    max_days: int  # the longest sub-window one call is asked for
    # Pages one call takes at least (a call that reads several endpoints in turn: one each).
    pages_per_window: int = 1


@dataclass(frozen=True)
class Coverage:
    """Which usage types of a kind the footprint counts, and which are in its spend only.

    ``left_out`` names the left-out usage type a cost line pays for, from its description (or
    line item) and its other fields, or returns None for a line the footprint counts.
    """

    counted: tuple[str, ...] = ()  # in the footprint: "text generation", "embeddings"…
    spend_only: tuple[str, ...] = ()  # paid for, not (yet) in the footprint: "images"…
    left_out: Callable[[str, Mapping[str, str]], str | None] = lambda description, fields: None
    # Service tiers whose tokens are counted but whose spend the cost report lacks.
    tiers_without_spend: tuple[str, ...] = ()
    note: str = ""  # one sentence on what the spend report itself lacks; may be empty

    @property
    def declared(self) -> bool:
        return bool(self.counted or self.spend_only)


@dataclass(frozen=True)
class Connector:
    """One kind of source, as the rest of the product sees it."""

    id: str  # the package name under connectors/; EstimateSource.vendor
    name: str  # shown to people: "Anthropic"
    kind: SourceKind
    delivery: Delivery
    sees: str  # one sentence for the Connect page: what this kind can see
    # Pulled kinds: the setting naming the vendor's API root (never user input) ...
    base_url_setting: str = ""
    # ... the vendor-specific half of the key shape check: a message when the pasted key is
    # clearly another vendor's, else None (connectors.keys does the generic half) ...
    key_shape_problem: Callable[[str], str | None] = lambda key: None
    # ... whether a rejected key looks like a standard (non-admin) one, and how to make one ...
    looks_like_standard_key: Callable[[str], bool] = lambda key: False
    create_key_help: str = ""
    # ... one live check, no retries: the label to show, or a ConnectorError ...
    validate: Callable[[httpx.Client, str], ValidatedKey] | None = None
    # ... the id of the key's organisation (Anthropic: /v1/organizations/me), asked at a sample
    # when the source does not know it yet, to tell live telemetry already counted ...
    organization_id: Callable[[httpx.Client, str], str] | None = None
    # ... the owner's message for a refusal this kind can tell apart (else the generic one) ...
    explain_rejection: Callable[[Exception], str | None] = lambda error: None
    # ... and its reports.
    usage: Report | None = None
    # Further usage reports read beside the main one, by name (OpenAI's embeddings and
    # moderations: separate endpoints, so separate requests in flight at once).
    more_usage: dict[str, Report] = field(default_factory=dict)
    spend: Report | None = None
    # True when the usage report also returns the spend (CostRecords) from the same calls.
    spend_in_usage: bool = False
    # What a source of this kind cannot report, shown beside it (e.g. "no cache split
    # reported"); empty when there is nothing to say.
    notes: str = ""
    # Which usage types the footprint counts and which are in the spend only (none declared:
    # nothing is said about it).
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def pulled(self) -> bool:
        return self.delivery is Delivery.PULLED

    @property
    def has_spend(self) -> bool:
        return self.spend is not None or self.spend_in_usage

    def reports(self) -> dict[str, Report]:
        """The reports a sample fetches, by the name progress is recorded under."""
        named = {"usage": self.usage, **self.more_usage, "costs": self.spend}
        return {name: report for name, report in named.items() if report is not None}
