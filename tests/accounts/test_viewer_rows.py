"""The viewer's rows (user, memberships, accounts) kept between requests: no query while nothing
in them changed, and every change seen by the very next request."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PASSWORD, AccountFactory, MembershipFactory, UserFactory
from tokenoffset.accounts import viewers
from tokenoffset.accounts.models import Membership, Role
from tokenoffset.accounts.services import account_data_changed, all_accounts_data_changed


def viewer_queries(client, url=None) -> tuple[int, object]:
    """How many times the request read the user with their memberships, and the response."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url or reverse("billing:home"))
    joins = [q for q in queries.captured_queries if "LEFT JOIN" in q["sql"] and " u " in q["sql"]]
    return len(joins), response


@pytest.fixture
def signed_in(owner):
    client = Client()
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    viewer_queries(client)  # this process learns the session's user
    viewer_queries(client)  # the user's stamps exist; the rows are kept
    return client


def kept_dashboard(user):
    """A client signed in as ``user`` whose rows this process keeps, and its last dashboard."""
    client = Client()
    client.force_login(user)
    for _ in range(3):
        _, response = viewer_queries(client, reverse("dashboard:home"))
    return client, response


def test_a_signed_in_request_reads_the_kept_rows_without_a_query(signed_in):
    for _ in range(3):
        read, response = viewer_queries(signed_in)
        assert read == 0 and response.status_code == 200


def test_a_member_removed_from_the_account_loses_it_on_the_next_request(account, member):
    client, response = kept_dashboard(member)
    assert "Alice Labs" in response.text
    Membership.objects.get(account=account, user=member).delete()
    read, response = viewer_queries(client, reverse("dashboard:home"))
    assert read >= 1 and "Alice Labs" not in response.text


def test_a_membership_given_to_another_user_leaves_the_former_one_at_once(account, member):
    client, response = kept_dashboard(member)
    assert "Alice Labs" in response.text
    membership = Membership.objects.get(account=account, user=member)
    membership.user = UserFactory(email="dana@example.org")
    membership.save()
    _, response = viewer_queries(client, reverse("dashboard:home"))
    assert "Alice Labs" not in response.text


def test_a_deactivated_user_is_signed_out_on_the_next_request(signed_in, owner):
    owner.is_active = False
    owner.save()
    _, response = viewer_queries(signed_in)
    assert response.status_code == 302 and "login" in response.url


def test_a_password_change_signs_out_the_other_sessions_on_the_next_request(signed_in, owner):
    owner.set_password("a wholly new password 9")
    owner.save()
    read, response = viewer_queries(signed_in)
    assert read == 1 and response.status_code == 302


def test_an_account_renamed_elsewhere_shows_its_new_name_on_the_next_request(signed_in, account):
    account.name = "Alice Research"
    account.save()
    read, response = viewer_queries(signed_in, reverse("dashboard:home"))
    assert read == 1 and "Alice Research" in response.text


def test_a_new_membership_shows_in_the_switcher_on_the_next_request(signed_in, owner):
    MembershipFactory(account=AccountFactory(name="Bob Studio"), user=owner, role=Role.MEMBER)
    read, response = viewer_queries(signed_in, reverse("dashboard:home"))
    assert read == 1 and "Switch to Bob Studio" in response.text


def test_data_written_for_the_account_or_for_every_account_reads_the_rows_again(signed_in, account):
    account_data_changed(account_id=account.pk)
    assert viewer_queries(signed_in)[0] == 1
    assert viewer_queries(signed_in)[0] == 0
    all_accounts_data_changed()
    assert viewer_queries(signed_in)[0] == 1


def test_a_new_accounts_rows_are_kept_once_its_stamp_is_read_with_the_session(signed_in, owner):
    bob = AccountFactory(name="Bob Studio")
    MembershipFactory(account=bob, user=owner, role=Role.MEMBER)
    assert viewer_queries(signed_in)[0] == 1  # the user's stamp went with the new membership
    assert viewer_queries(signed_in)[0] == 1  # Bob Studio's stamp is read from now on
    assert viewer_queries(signed_in)[0] == 0
    account_data_changed(account_id=bob.pk)
    assert viewer_queries(signed_in)[0] == 1


def test_another_accounts_change_reads_nothing_again(signed_in, other_account, other_owner):
    account_data_changed(account_id=other_account.pk)
    other_account.name = "Bob Renamed"
    other_account.save()
    assert viewer_queries(signed_in)[0] == 0


def test_two_users_each_get_their_own_rows(signed_in, owner, other_owner):
    other = Client()
    other.force_login(other_owner)
    for _ in range(3):
        _, mine = viewer_queries(signed_in, reverse("dashboard:home"))
        _, theirs = viewer_queries(other, reverse("dashboard:home"))
        assert "Alice Labs" in mine.text and "Bob Studio" not in mine.text
        assert "Bob Studio" in theirs.text and "Alice Labs" not in theirs.text


def test_a_cleared_cache_reads_the_rows_again(signed_in):
    cache.clear()  # Redis restarted: stamps (and sessions) gone; the database signs in
    read, response = viewer_queries(signed_in)
    assert read == 1 and response.status_code == 200


def read_with(user_id, stamps: dict, query, accounts=()) -> list:
    """``viewer_rows`` inside a request whose session read ``stamps`` for ``user_id``; the rows
    are of ``accounts``."""
    session = SimpleNamespace(viewer_stamps=(str(user_id), stamps))
    with viewers.stamps_read_with(session):
        return viewers.viewer_rows(user_id, query, lambda rows: list(accounts))


def current_stamps(user_id) -> dict:
    keys = viewers.stamp_keys(str(user_id))
    found = cache.get_many(keys)
    return {key: found.get(key) for key in keys}


def test_rows_queried_while_a_write_lands_are_not_served_after_it(db):
    read_with(7, current_stamps(7), lambda: ["first"])  # the stamps now exist
    viewers.clear()  # another process, which kept nothing yet

    def query_while_a_write_lands():
        viewers.users_changed([7])  # committed between the stamp read and the query
        return ["before the write"]

    assert read_with(7, current_stamps(7), query_while_a_write_lands) == ["before the write"]
    assert read_with(7, current_stamps(7), lambda: ["after the write"]) == ["after the write"]


def test_missing_stamps_are_created_before_the_query_not_after(db):
    def query_while_a_write_lands():
        viewers.users_changed([13])
        return ["before the write"]

    read_with(13, current_stamps(13), query_while_a_write_lands)  # no stamps yet: created
    assert read_with(13, current_stamps(13), lambda: ["after the write"]) == ["after the write"]


def test_a_request_serves_what_its_stamps_vouch_for_and_the_next_sees_the_write(db):
    read_with(8, current_stamps(8), lambda: ["first"])
    assert read_with(8, current_stamps(8), lambda: ["never queried"]) == ["first"]
    read_before_the_write = current_stamps(8)
    viewers.users_changed([8])
    assert read_with(8, read_before_the_write, lambda: ["never queried"]) == ["first"]
    assert read_with(8, current_stamps(8), lambda: ["fresh"]) == ["fresh"]


def test_an_account_first_seen_in_the_query_waits_for_its_stamp_to_be_read_before_one(db):
    def query_while_account_5_changes():
        viewers.accounts_changed([5])  # its stamp did not exist yet: deleting it changes nothing
        return ["account 5 before the write"]

    read_with(14, current_stamps(14), query_while_account_5_changes, accounts=[5])
    assert viewers.stamp_keys("14")[-1] == "viewer-stamp:account:5"  # read from now on
    fresh = read_with(14, current_stamps(14), lambda: ["fresh"], accounts=[5])
    assert fresh == ["fresh"]
    assert read_with(14, current_stamps(14), lambda: ["never queried"], accounts=[5]) == fresh
    viewers.accounts_changed([5])
    assert read_with(14, current_stamps(14), lambda: ["after"], accounts=[5]) == ["after"]


def test_rows_end_after_their_maximum_age(db, monkeypatch):
    monkeypatch.setattr(viewers, "MAX_AGE", -1.0)
    read_with(9, current_stamps(9), lambda: ["first"])
    assert read_with(9, current_stamps(9), lambda: ["second"]) == ["second"]


def test_without_the_cache_rows_are_queried_every_time(db, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", unreachable)
    assert read_with(10, current_stamps(10), lambda: ["one"]) == ["one"]
    assert read_with(10, current_stamps(10), lambda: ["two"]) == ["two"]


def test_stamps_read_for_another_user_are_not_used(db):
    read_with(11, current_stamps(11), lambda: ["eleven"])
    session = SimpleNamespace(viewer_stamps=("12", current_stamps(11)))
    with viewers.stamps_read_with(session):
        assert viewers.viewer_rows(11, lambda: ["queried"], lambda rows: []) == ["queried"]


def test_outside_a_request_the_rows_are_always_queried(signed_in, owner):
    from tokenoffset.accounts.access import user_with_memberships

    Membership.objects.filter(user=owner).update(role=Role.MEMBER)  # no signal: nothing told
    (membership,) = user_with_memberships(owner.pk).loaded_memberships
    assert membership.role == Role.MEMBER
