"""The admin: staff read tenants, superusers act through the product's own services."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.models import StripeCleanup
from conftest import PASSWORD
from connectors.models import EstimateSource, KeyEvent
from tests.factories import EstimateSourceFactory, UserFactory
from tests.stripe_fixtures import customer_closing_routes
from tokenoffset.accounts.models import Account, Membership, Role, User


@pytest.fixture
def staff(db):
    """Staff with every permission on accounts and sources, but not a superuser."""
    user = UserFactory(email="staff@example.org", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["accounts", "connectors"])
    )
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.org", PASSWORD)


@pytest.fixture
def superuser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def account_change(account):
    return reverse("admin:accounts_account_change", args=[account.pk])


def with_new_membership(account, user, role=Role.OWNER, existing=()):
    data = {
        "name": account.name,
        "created_at_0": "2025-01-01",
        "created_at_1": "00:00:00",
        "memberships-TOTAL_FORMS": str(len(existing) + 1),
        "memberships-INITIAL_FORMS": str(len(existing)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(existing):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-account": str(account.pk),
            f"memberships-{i}-user": str(membership.user_id),
            f"memberships-{i}-role": membership.role,
            f"memberships-{i}-created_at_0": "2025-01-01",
            f"memberships-{i}-created_at_1": "00:00:00",
        }
    n = len(existing)
    data |= {
        f"memberships-{n}-account": str(account.pk),
        f"memberships-{n}-user": str(user.pk),
        f"memberships-{n}-role": role,
        f"memberships-{n}-created_at_0": "2025-01-01",
        f"memberships-{n}-created_at_1": "00:00:00",
    }
    return data


def test_it_does_not_let_staff_make_themselves_owner_of_an_account(
    staff_client, staff, account, owner
):
    existing = list(Membership.objects.filter(account=account))
    response = staff_client.post(
        account_change(account), with_new_membership(account, staff, existing=existing)
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=staff).exists()


def test_it_shows_staff_accounts_and_memberships_read_only(staff_client, account, owner):
    page = staff_client.get(account_change(account))
    assert page.status_code == 200
    body = page.content.decode()
    assert owner.email in body
    assert 'name="memberships-0-role"' not in body and 'name="name"' not in body


def test_a_superuser_can_still_add_a_member(superuser_client, account, owner, other_owner):
    existing = list(Membership.objects.filter(account=account))
    data = with_new_membership(account, other_owner, role=Role.MEMBER, existing=existing)
    response = superuser_client.post(account_change(account), data)
    assert response.status_code == 302, response.context["errors"]
    assert Membership.objects.get(account=account, user=other_owner).role == Role.MEMBER


def user_change(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def user_form(user, **changes):
    data = {
        "email": user.email,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    return data | changes


def test_it_does_not_let_staff_grant_staff_or_superuser_rights(staff_client, owner):
    response = staff_client.post(
        user_change(owner), user_form(owner, is_staff="on", is_superuser="on")
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.is_staff, owner.is_superuser) == (False, False)


def test_it_does_not_let_staff_change_themselves_or_other_staff(staff_client, staff):
    response = staff_client.post(user_change(staff), user_form(staff, is_superuser="on"))
    assert response.status_code == 403
    staff.refresh_from_db()
    assert not staff.is_superuser
    url = reverse("admin:auth_user_password_change", args=[staff.pk])
    assert staff_client.post(url, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403


def test_a_superuser_can_still_grant_staff_rights(superuser_client, owner):
    superuser_client.post(user_change(owner), user_form(owner, is_staff="on"))
    owner.refresh_from_db()
    assert owner.is_staff


def test_the_admin_login_is_the_products_login_with_its_rate_limit(staff):
    client = Client()
    response = client.get("/admin/login/?next=/admin/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/admin/accounts/" in response["Location"]

    # The admin's own form no longer signs anyone in, so it cannot be brute-forced.
    for _ in range(6):
        client.post("/admin/login/", {"username": staff.email, "password": "guess"})
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session

    for _ in range(5):
        client.post(reverse("account_login"), {"login": staff.email, "password": "guess"})
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_to_the_admin_through_the_products_login(staff):
    client = Client()
    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_non_staff_user_gets_a_refusal_not_a_loop(owner_client):
    assert owner_client.get("/admin/login/?next=/admin/").status_code == 403


def account_delete_url(account):
    return reverse("admin:accounts_account_delete", args=[account.pk])


def test_deleting_an_account_in_the_admin_is_the_products_deletion(
    stripe_api, superuser_client, account, owner, subscribed, django_capture_on_commit_callbacks
):
    sessions, delete = customer_closing_routes(stripe_api)
    source = EstimateSourceFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(account_delete_url(account), {"post": "yes"})
    assert response.status_code == 302
    assert sessions.called and delete.call_count == 1
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is not None
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not EstimateSource.objects.filter(pk=source.pk).exists()
    assert [m.to for m in mail.outbox if "was deleted" in m.subject] == [[owner.email]]
    assert User.objects.filter(pk=owner.pk).exists()


def test_when_stripe_is_down_an_admin_deletion_still_deletes_and_the_cleanup_waits(
    stripe_api, superuser_client, account, owner, subscribed, django_capture_on_commit_callbacks
):
    customer_closing_routes(stripe_api, status=500)
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(account_delete_url(account), {"post": "yes"})
    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is None


def test_staff_cannot_delete_accounts_or_sources(staff_client, account, owner):
    source = EstimateSourceFactory(account=account)
    assert staff_client.post(account_delete_url(account), {"post": "yes"}).status_code == 403
    url = reverse("admin:connectors_estimatesource_delete", args=[source.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()
    assert EstimateSource.objects.filter(pk=source.pk).exists()


def test_the_account_list_offers_no_bulk_delete(superuser_client, account):
    body = superuser_client.get(reverse("admin:accounts_account_changelist")).content.decode()
    assert "delete_selected" not in body


def test_removing_a_source_in_the_admin_is_the_products_removal(
    superuser_client, superuser, account, owner
):
    source = EstimateSourceFactory(account=account)
    url = reverse("admin:connectors_estimatesource_delete", args=[source.pk])
    assert superuser_client.post(url, {"post": "yes"}).status_code == 302
    assert not EstimateSource.objects.filter(pk=source.pk).exists()
    event = KeyEvent.objects.get(account=account, source_public_id=source.public_id)
    assert (event.kind, event.actor) == ("removed", superuser)
    assert [m.to for m in mail.outbox if "was removed" in m.subject] == [[owner.email]]


def test_removing_sources_in_bulk_in_the_admin_records_each_removal(
    superuser_client, account, owner
):
    sources = [EstimateSourceFactory(account=account), EstimateSourceFactory(account=account)]
    response = superuser_client.post(
        reverse("admin:connectors_estimatesource_changelist"),
        {"action": "delete_selected", "_selected_action": [s.pk for s in sources], "post": "yes"},
    )
    assert response.status_code == 302
    assert not EstimateSource.objects.filter(account=account).exists()
    assert KeyEvent.objects.filter(account=account, kind="removed").count() == 2
