"""Building blocks of the vendors' declared report schemas, shared by every connector.

Each report is one set of msgspec Structs in its vendor's package, decoded straight from the
response bytes (connectors.http.decode): a wrong type, a missing field or a negative count fails
there, with the field's path in the message. What a schema cannot say is checked while its
buckets become records, with the helpers below; plausibility limits are connectors.bounds'.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from connectors.records import BLANK, malformed

# A token or request count. Whole numbers written as JSON floats (3.0, 1e6) are counts too; 1e30
# is whole as well and left for connectors.bounds to refuse with its limit and message.
Count = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)]
# A group field: vendors' enums grow, so any string is kept as it is (null becomes BLANK).
Group = str | None


def whole(value: int | float | None, what: str) -> int:
    """A count as an int (an optional count the vendor left out is 0)."""
    if value is None:
        return 0
    if isinstance(value, float):
        if not value.is_integer():
            raise malformed(f"result row has a bad {what!r}: {value!r}")
        return int(value)
    return value


def money(value: Decimal, what: str) -> Decimal:
    """An exact amount; the schema decoded it from the JSON text, never through a float."""
    if not value.is_finite():
        raise malformed(f"bad {what}: {value!r}")
    return value


def text(value: Any) -> str:
    """A group or dimension value as a string: null becomes BLANK, unknown values are kept."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(msgspec.to_builtins(value), sort_keys=True, separators=(",", ":"))


def dimensions(row: msgspec.Struct, skip: set[str]) -> dict[str, str]:
    """Every non-null field of a cost row except those in skip, as strings."""
    values = ((name, getattr(row, name)) for name in _fields(type(row), frozenset(skip)))
    return {
        name: value if type(value) is str else text(value)
        for name, value in values
        if value is not None
    }


@functools.cache
def _fields(struct: type[msgspec.Struct], skip: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in sorted(struct.__struct_fields__) if name not in skip)


def utc_day(when: datetime, what: str) -> date:
    """The UTC day an RFC 3339 bucket start falls on (a naive time is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC).date()
    except OverflowError as exc:  # year 9999 with a negative offset
        raise malformed(f"bad bucket {what}: {when.isoformat()!r}") from exc


def unix_day(seconds: int, what: str) -> date:
    """The UTC day a Unix-seconds bucket start falls on."""
    try:
        return datetime.fromtimestamp(seconds, UTC).date()
    except (OverflowError, OSError, ValueError) as exc:  # beyond the calendar
        raise malformed(f"bad bucket {what}: {seconds!r}") from exc


def convert(data: Any, schema: Any) -> Any:
    """Validate already-decoded JSON (e.g. a test fixture) against a declared schema."""
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as exc:
        raise malformed(f"Unexpected data: {exc}") from exc
