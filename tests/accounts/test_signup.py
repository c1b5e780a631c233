import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from conftest import PASSWORD
from tokenoffset.accounts.models import Membership, Role, User


def signup(client, email, password1=PASSWORD, password2=None):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password1, "password2": password2 or password1},
        follow=True,
    )


def test_signup_creates_user_account_and_lands_on_dashboard(client, db):
    response = signup(client, "new@example.org")
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dashboard:home")
    user = User.objects.get(email="new@example.org")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    assert "Dashboard" in response.content.decode()
    assert escape(membership.account.name) in response.content.decode()


def test_signup_with_duplicate_email_is_refused_clearly(client, owner):
    response = signup(client, "ALICE@example.org")
    assert "already registered" in response.content.decode()
    assert User.objects.filter(email__iexact="alice@example.org").count() == 1


def test_signup_with_weak_password_is_refused(client, db):
    response = signup(client, "weak@example.org", password1="password")
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="weak@example.org").exists()


def test_signup_with_malformed_email_is_refused(client, db):
    response = signup(client, "not-an-email")
    assert "Enter a valid email address" in response.content.decode()
    assert User.objects.count() == 0


def test_login_and_logout(client, owner):
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard:home")
    assert response.context["user"] == owner

    # Logging out is a POST; a GET only shows the confirmation page.
    assert client.get(reverse("account_logout")).status_code == 200
    assert client.get(reverse("dashboard:home")).status_code == 200
    client.post(reverse("account_logout"))
    response = client.get(reverse("billing:home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_login_with_wrong_password_says_so(client, owner):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "nope"})
    assert "not correct" in response.content.decode()


def test_password_reset_sends_a_working_link(client, owner):
    response = client.post(reverse("account_reset_password"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)

    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    new_password = "a much better passphrase 42"
    response = client.post(
        form_url, {"password1": new_password, "password2": new_password}, follow=True
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(new_password)


@pytest.mark.parametrize("name", ["billing:home", "sources:list", "accounts:settings"])
def test_an_accounts_pages_require_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_the_dashboard_address_shows_a_visitor_the_front_page(client, db):
    html = client.get(reverse("dashboard:home")).content.decode()
    assert 'id="example"' in html and 'id="offset-heading"' not in html
