"""The viewer's rows (the user, their memberships and accounts) kept in the process between
requests, and served only while the shared cache says nothing in them has changed.

Every signed-in request needs them (``access.user_with_memberships``). Each user and each account
has a *stamp* in the shared cache, a random token that every write to its rows deletes (a user or
their memberships: ``users_changed``; an account's name or data version: ``accounts_changed``),
and one *epoch* stamp stands for every account at once. Rows are kept with the stamps read
**before** they were queried; a request serves them only if the stamps read with its session, in
the same round trip (``sessions.SessionStore``), are still those. A write that lands between a
stamp read and a query deletes a stamp, so rows that may have missed the write are never served;
rows with an account whose stamp was not read before the query (a new membership) are not kept
until the next request has read it.

Kept rows also end after ``MAX_AGE`` seconds: the bound for what the stamps cannot see — a write
that goes around the models' signals and the services (raw SQL in a shell), a stamp deletion
lost to a cache error, or a cache restored from a snapshot with stamps since deleted. The stamps
live in the sessions' cache, so that one round trip reads both.
"""

import contextvars
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from tokenoffset.recent import Recent

logger = logging.getLogger(__name__)

EPOCH = "viewer-stamp:all"
STAMP_TTL = 24 * 60 * 60  # a user seen less than daily is queried afresh
MAX_AGE = 60.0  # seconds

_rows = Recent(size=10_000)  # user id → (stamps, monotonic deadline, rows)
_accounts = Recent(size=10_000)  # user id → the account ids of their last rows queried here
_session_users = Recent(size=20_000)  # session key → the user id it was last loaded with
_request_session = contextvars.ContextVar("viewer_session", default=None)


def _cache():
    return caches[settings.SESSION_CACHE_ALIAS]


def _user_key(user_id) -> str:
    return f"viewer-stamp:user:{user_id}"


def _account_key(account_id) -> str:
    return f"viewer-stamp:account:{account_id}"


def stamp_keys(user_id: str) -> list[str]:
    """The stamps a request of this user reads with its session: the user's, the epoch and
    those of the accounts of the user's rows last queried here."""
    return [_user_key(user_id), EPOCH, *map(_account_key, _accounts.get(user_id) or ())]


def session_user(session_key: str | None) -> str | None:
    """The user this process last saw signed in with this session (whose stamps to read)."""
    return _session_users.get(session_key) if session_key else None


def session_loaded(session_key: str, user_id: str | None) -> None:
    if user_id:
        _session_users.put(session_key, user_id)


@contextmanager
def stamps_read_with(session):
    """Within it, the viewer's rows may be served from this process if the stamps ``session``
    read when it loaded (``session.viewer_stamps``) are those the rows were kept with."""
    token = _request_session.set(session)
    try:
        yield
    finally:
        _request_session.reset(token)


def viewer_rows(user_id, query: Callable[[], list], account_ids: Callable[[list], list]) -> list:
    """The rows ``query`` returns for ``user_id``: kept ones while their stamps hold, else
    queried (after the stamps are read) and kept. ``account_ids`` names the rows' accounts."""
    user_id = str(user_id)
    read = getattr(_request_session.get(), "viewer_stamps", None)
    # Without stamps read with this request's session there is nothing to check kept rows against.
    stamps = read[1] if read is not None and read[0] == user_id else None
    if stamps is not None:
        kept = _rows.get(user_id)
        if kept is not None and kept[0] == stamps and time.monotonic() < kept[1]:
            return kept[2]
        stamps = _settled(stamps)
    rows = query()
    accounts = tuple(sorted({pk for pk in account_ids(rows) if pk is not None}))
    _accounts.put(user_id, accounts)  # the next request reads their stamps with its session
    wanted = [_user_key(user_id), EPOCH, *map(_account_key, accounts)]
    if stamps is not None and all(key in stamps for key in wanted):
        _rows.put(user_id, ({key: stamps[key] for key in wanted}, time.monotonic() + MAX_AGE, rows))
    return rows


def _settled(stamps: dict) -> dict | None:
    """``stamps`` with the missing ones created (read before the query), or None if the cache
    cannot say."""
    missing = [key for key, value in stamps.items() if value is None]
    if not missing:
        return stamps
    try:
        for key in missing:
            _cache().add(key, secrets.token_hex(16), STAMP_TTL)
        stamps = {**stamps, **_cache().get_many(missing)}
    except Exception:  # noqa: BLE001 - without the cache, rows are simply not kept
        logger.warning("viewer stamps unreadable; rows not kept", exc_info=True)
        return None
    return stamps if None not in stamps.values() else None


def users_changed(user_ids: Iterable) -> None:
    """These users' rows (themselves, their memberships) changed, or are changing inside the
    current transaction."""
    _forget_now_and_on_commit(sorted({_user_key(user_id) for user_id in user_ids}))


def accounts_changed(account_ids: Iterable) -> None:
    """These accounts' rows (name, data version) changed, for every member."""
    _forget_now_and_on_commit(sorted({_account_key(account_id) for account_id in account_ids}))


def all_accounts_changed() -> None:
    _forget_now_and_on_commit([EPOCH])


def _forget_now_and_on_commit(keys: list[str]) -> None:
    if not keys:
        return
    # Now, for this transaction's own later requests; again at the commit, for any request that
    # read the old rows and stamped them in between.
    _forget(keys)
    transaction.on_commit(lambda: _forget(keys))


def _forget(keys: list[str]) -> None:
    try:
        _cache().delete_many(keys)
    except Exception:  # noqa: BLE001 - kept rows still end at MAX_AGE
        logger.error("viewer stamps %s not deleted; kept rows end within %ss", keys, MAX_AGE)


def clear() -> None:
    """Forget what this process keeps (tests)."""
    _rows.clear()
    _accounts.clear()
    _session_users.clear()
