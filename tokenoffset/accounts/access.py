"""The request's account: one helper resolves it, every tenant lookup goes through it."""

import time
from functools import cache, wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router
from django.http import HttpRequest

from . import viewers
from .models import Account, Membership, User

SESSION_KEY = "current_account"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the current account kept in the session (or the user's own).

    One query loads all the user's memberships with their accounts: the navigation's account
    switcher reads them from ``request.memberships`` (ordered by account name).
    """
    user = request.user
    if not user.is_authenticated:
        request.memberships = []
        return None
    memberships = user_memberships(user)
    request.memberships = memberships
    wanted = request.session.get(SESSION_KEY)
    if wanted:
        for membership in memberships:
            if str(membership.account.public_id) == wanted:
                return membership
    if not memberships:
        return None
    # Fall back to an account the user owns (their own), then any other.
    # Owners first, then the oldest membership.
    membership = min(memberships, key=lambda m: (not m.is_owner, m.created_at, m.pk))
    request.session[SESSION_KEY] = str(membership.account.public_id)
    return membership


@cache
def _user_query(alias: str):
    """The SQL of ``user_with_memberships`` and, per column, its model and converters."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = []
    for model, table in ((User, "u"), (Membership, "m"), (Account, "a")):
        for field in model._meta.concrete_fields:
            col = field.get_col(table)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            columns.append((model, f"{table}.{quote(field.column)}", col, converters))
    c = lambda model, name: quote(model._meta.get_field(name).column)  # noqa: E731
    t = lambda model: quote(model._meta.db_table)  # noqa: E731
    # Only quoted names from the models' metadata; the user's id is a parameter.
    sql = (
        f"SELECT {', '.join(column[1] for column in columns)}"  # noqa: S608
        f" FROM {t(User)} u"
        f" LEFT JOIN {t(Membership)} m ON m.{c(Membership, 'user')} = u.{c(User, 'id')}"
        f" LEFT JOIN {t(Account)} a ON a.{c(Account, 'id')} = m.{c(Membership, 'account')}"
        f" WHERE u.{c(User, 'id')} = %s ORDER BY a.{c(Account, 'name')}, m.{c(Membership, 'id')}"
    )
    return sql, columns


def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


_MEMBERSHIP_ACCOUNT = _attnames(Membership).index("account_id")


def user_with_memberships(user_id) -> User | None:
    """The user, with ``user.loaded_memberships``: their memberships with their accounts, by
    account name (as ``Membership.objects.filter(user=user).select_related("account")
    .order_by("account__name")``), in one plain SQL statement. Read on every signed-in request,
    where building ORM queries costs more than running them."""
    alias = router.db_for_read(User)
    connection = connections[alias]
    sql, columns = _user_query(alias)
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    instances = viewers.viewer_rows(
        user_id,
        lambda: _converted(connection, columns, _viewer_rows(connection, sql, [user_id])),
        lambda instances: [values[Membership][_MEMBERSHIP_ACCOUNT] for values in instances],
    )
    if not instances:
        return None
    user = User.from_db(alias, _attnames(User), instances[0][User])
    user.loaded_memberships = []
    for values in instances:
        if values[Membership][0] is None:  # LEFT JOIN: a user without memberships
            continue
        membership = Membership.from_db(alias, _attnames(Membership), values[Membership])
        account = Account.from_db(alias, _attnames(Account), values[Account])
        Membership.account.field.set_cached_value(membership, account)
        Membership.user.field.set_cached_value(membership, user)
        user.loaded_memberships.append(membership)
    return user


def _viewer_rows(connection, sql: str, params: list) -> list:
    """The rows of the viewer query. On PostgreSQL it is a prepared statement (planned once per
    connection, not on every request) and it stands for the connection's health check: a
    connection found dead when the request's first query runs is replaced and the query run
    again, as the check would have done, without the check's own round trip before it."""
    if connection.vendor != "postgresql" or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    checked = connection.connection is None or not connection.health_check_enabled
    checked = checked or connection.health_check_done
    connection.ensure_connection()
    while True:
        start, raw = time.monotonic(), connection.connection
        try:
            with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
                # Prepared unless the connection's prepare_threshold (DATABASES OPTIONS) is None.
                cursor.execute(sql, params, prepare=True)
                rows = cursor.fetchall()
            break
        except Exception:
            if checked or not raw.broken or connection.in_atomic_block:
                raise
            connection.close()
            connection.ensure_connection()
            checked = True
    connection.health_check_done = True  # this request's connection works: no check again
    if connection.queries_logged:
        sql = connection.ops.compose_sql(sql, params)
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})
    return rows


def _converted(connection, columns, rows) -> list[dict]:
    """Each row's values by model, converted as the ORM converts them (immutable values, so
    ``viewers`` may keep them between requests)."""
    instances = []
    for row in rows:
        values = {User: [], Membership: [], Account: []}
        for value, (model, _, col, converters) in zip(row, columns, strict=True):
            for converter in converters:
                value = value if value is None else converter(value, col, connection)
            values[model].append(value)
        instances.append({model: tuple(model_values) for model, model_values in values.items()})
    return instances


def user_memberships(user) -> list[Membership]:
    """The user's memberships with their accounts, by account name: loaded with the user by the
    authentication backends (``backends``), else read now."""
    loaded = getattr(user, "loaded_memberships", None)
    if loaded is not None:
        return loaded
    fresh = user_with_memberships(user.pk)
    return fresh.loaded_memberships if fresh is not None else []


def switch_account(request: HttpRequest, membership: Membership) -> None:
    request.session[SESSION_KEY] = str(membership.account.public_id)


def account_required(view):
    """Login required, and the request carries ``request.account`` and ``request.membership``."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership is None:
            # The user's last account was deleted or they were removed from it: rather than a
            # dead end, they get a fresh account of their own, as at sign-up.
            from .services import account_create_for_user

            account_create_for_user(user=request.user)
            request.user.loaded_memberships = None  # read them again
            request.membership = current_membership(request)
            request.account = request.membership.account
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view):
    """Like ``account_required``, but only owners may act; members are read-only."""

    @account_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_owner:
            raise PermissionDenied("Only the account's owners can change this.")
        return view(request, *args, **kwargs)

    return wrapper
