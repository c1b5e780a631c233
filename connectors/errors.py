"""The one error type raised by the vendor clients."""

from __future__ import annotations

# kind -> (permanent, transient). The web layer picks a user-facing message by `kind`.
#
# permanent: the credential itself is wrong (401, 403): stop syncing, ask the user for a key.
# transient: worth retrying later (timeouts, connection errors, 429, 5xx incl. 529).
# Neither: a request the vendor rejects as such (400, 404, other 4xx), a body we cannot read,
#   a value outside the sane ranges of connectors/bounds.py ("out_of_range": a malformed report
#   whose detail the owner may see), or a runaway cursor. Retrying will not help and the key is
#   not to blame: record the failure and let staff look (a vendor API change or a bug of ours).
KINDS: dict[str, tuple[bool, bool]] = {
    "unauthorized": (True, False),
    "forbidden": (True, False),
    "rate_limited": (False, True),
    "timeout": (False, True),
    "server": (False, True),
    "unreachable": (False, True),
    "malformed": (False, False),
    "out_of_range": (False, False),
    "bad_request": (False, False),
    "page_cap": (False, False),
}


class ConnectorError(Exception):
    """A vendor call failed; `kind` says how, `permanent`/`transient` say what to do next."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown ConnectorError kind: {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.permanent, self.transient = KINDS[kind]

    def __repr__(self) -> str:
        return (
            f"ConnectorError(kind={self.kind!r}, status={self.status!r}, "
            f"retry_after={self.retry_after!r}, message={self.message!r})"
        )
