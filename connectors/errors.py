"""The one error type raised by the vendor clients, and the kinds of failure it names."""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    """How a vendor call failed. A StrEnum: a kind compares equal to its plain string value.

    permanent: the credential itself is wrong (401, 403): stop syncing, ask the user for a key.
    transient: worth retrying later (timeouts, connection errors, 429, 5xx incl. 529).
    Neither: a request the vendor rejects as such (400, 404, other 4xx), a body we cannot read,
      a value outside the sane ranges of connectors/bounds.py ("out_of_range": a malformed
      report whose detail the owner may see), or a runaway cursor. Retrying will not help and
      the key is not to blame: record the failure and let staff look (a vendor API change or a
      bug of ours).
    """

    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    SERVER = "server"
    UNREACHABLE = "unreachable"
    MALFORMED = "malformed"
    OUT_OF_RANGE = "out_of_range"
    BAD_REQUEST = "bad_request"
    PAGE_CAP = "page_cap"

    @property
    def permanent(self) -> bool:
        return self in (ErrorKind.UNAUTHORIZED, ErrorKind.FORBIDDEN)

    @property
    def transient(self) -> bool:
        return self in (
            ErrorKind.RATE_LIMITED,
            ErrorKind.TIMEOUT,
            ErrorKind.SERVER,
            ErrorKind.UNREACHABLE,
        )


class ConnectorError(Exception):
    """A vendor call failed; `kind` says how, `permanent`/`transient` say what to do next."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind | str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        try:
            kind = ErrorKind(kind)  # vendor clients may pass the plain string value
        except ValueError:
            raise ValueError(f"unknown ConnectorError kind: {kind!r}") from None
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.permanent, self.transient = self.kind.permanent, self.kind.transient

    def __repr__(self) -> str:
        return (
            f"ConnectorError(kind={self.kind.value!r}, status={self.status!r}, "
            f"retry_after={self.retry_after!r}, message={self.message!r})"
        )
