"""The request's account: one helper resolves it, every tenant lookup goes through it."""

from functools import cache, wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.http import HttpRequest

from .models import Account, Membership

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
    memberships = user_memberships(user.pk)
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
def _memberships_query(alias: str):
    """The SQL of ``user_memberships`` and, per column, its field and converters (built once)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = []
    for model, table in ((Membership, "m"), (Account, "a")):
        for field in model._meta.concrete_fields:
            col = field.get_col(table)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            columns.append((model, f"{table}.{quote(field.column)}", field, col, converters))
    column = lambda model, name: quote(model._meta.get_field(name).column)  # noqa: E731
    # Only quoted names from the models' metadata; the user's id is a parameter.
    sql = (
        f"SELECT {', '.join(c[1] for c in columns)}"  # noqa: S608
        f" FROM {quote(Membership._meta.db_table)} m JOIN {quote(Account._meta.db_table)} a"
        f" ON a.{column(Account, 'id')} = m.{column(Membership, 'account')}"
        f" WHERE m.{column(Membership, 'user')} = %s"
        f" ORDER BY a.{column(Account, 'name')}, m.{column(Membership, 'id')}"
    )
    return sql, columns


def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def user_memberships(user_id: int) -> list[Membership]:
    """The user's memberships with their accounts, by account name: what
    ``Membership.objects.filter(user_id=...).select_related("account").order_by("account__name")``
    returns, in one plain SQL statement (read on every signed-in request, where building the ORM
    query costs more than running it)."""
    alias = router.db_for_read(Membership)
    connection = connections[alias]
    sql, columns = _memberships_query(alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        rows = cursor.fetchall()
    memberships = []
    for row in rows:
        values = {Membership: [], Account: []}
        for value, (model, _, _, col, converters) in zip(row, columns, strict=True):
            for converter in converters:
                value = converter(value, col, connection)
            values[model].append(value)
        membership = Membership.from_db(alias, _attnames(Membership), values[Membership])
        account = Account.from_db(alias, _attnames(Account), values[Account])
        Membership.account.field.set_cached_value(membership, account)
        memberships.append(membership)
    return memberships


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
