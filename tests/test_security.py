"""The security sweep: tenant isolation on every id-taking URL, secrets nowhere, headers, CSRF.

The URL sweeps walk the resolver, so a new URL is covered the day it is added; one with a
parameter name this file does not know fails until it is mapped to an object below.
"""

import base64
import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import respx
from celery import Celery
from celery.app.task import Task
from django.conf import settings as django_settings
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils.module_loading import import_string

from billing.models import OffsetChange
from billing.services import offset_choose_band
from conftest import PASSWORD
from connectors.models import EstimateSource, SourceStatus
from connectors.sandbox.catalogue import make_key
from connectors.services import VALIDATION_ATTEMPTS
from tokenoffset.accounts.models import Invitation, Membership, User, invitation_token_hash
from tokenoffset.celery import app as celery_app

from .factories import EstimateSourceFactory
from .stripe_fixtures import event, post_event
from .stripe_fixtures import stripe_subscription as stripe_subscription_object

ROOT = Path(__file__).resolve().parent.parent

# URL parameter → the kind of account A's object it names (see ``tenant_a``).
TENANT_PARAMS = {"source_id", "membership_id", "invitation_id", "account_id", "change_id"}
# Parameters that name no tenant object, and why they are not swept for a 404.
NOT_TENANT_PARAMS = {
    # The invitation link: the token is the credential, given to someone outside the account.
    # test_an_invitation_token_is_usable_only_by_the_invited_address covers it.
    "token": "invitation capability link",
    "key": "allauth's email-confirmation and password-reset keys",
    "uidb36": "allauth's password-reset link",
}
# Staff-only: the admin site redirects everyone else to its login page before any lookup.
STAFF_NAMESPACES = {"admin"}
# Not protected by CSRF on purpose: Stripe signs its webhooks instead (tested below).
CSRF_EXEMPT = {"billing:stripe_webhook", "api_footprint"}  # signed; public and stateless
# OTLP receivers: the bearer token of a live source is the credential (no session, no cookie);
# an exporter cannot fetch a CSRF token, and a 403 would drop its data silently.
CSRF_EXEMPT |= {"otlp_metrics", "otlp_logs"}


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "sources:rename"; "" for unnamed patterns
    route: str
    params: tuple[str, ...]
    namespace: str


def all_routes(patterns=None, prefix="", namespace="") -> list[Route]:
    routes = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            routes += all_routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            params = (
                tuple(p.pattern.converters)
                if isinstance(p.pattern, RoutePattern)
                else tuple(p.pattern.regex.groupindex)
            )
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            routes.append(Route(name, prefix + str(p.pattern), params, namespace))
    return routes


def tenant_routes() -> list[Route]:
    """Every URL that takes an id of a tenant's object."""
    return [
        r
        for r in all_routes()
        if r.params
        and r.namespace.split(":")[0] not in STAFF_NAMESPACES
        and not set(r.params) <= set(NOT_TENANT_PARAMS)
    ]


@pytest.fixture
def tenant_a(account, owner, member) -> dict:
    """One object of each kind a URL can name, all belonging to account A."""
    source = EstimateSourceFactory(account=account)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        account=account, email="dana@example.org", token_hash=invitation_token_hash(token)
    )
    change = offset_choose_band(
        account=account, user=owner, band_slug="agentic", expected_price_cents=295
    )
    return {
        "source_id": source.public_id,
        "membership_id": Membership.objects.get(account=account, user=member).public_id,
        "invitation_id": invitation.public_id,
        "account_id": account.public_id,
        "change_id": change.public_id,
        "token": token,
    }


# --- Tenant isolation ---------------------------------------------------------------------


def test_every_id_taking_url_parameter_is_known():
    known = TENANT_PARAMS | set(NOT_TENANT_PARAMS)
    unknown = {
        (r.route, p)
        for r in all_routes()
        if r.namespace.split(":")[0] not in STAFF_NAMESPACES
        for p in r.params
        if p not in known
    }
    assert not unknown, (
        f"URL parameters with no fixture in {__name__}.tenant_a: {sorted(unknown)}. Map each to "
        "an object of account A (TENANT_PARAMS) so the other-account sweep covers it."
    )
    assert tenant_routes(), "the sweep found no URL to check"


def test_another_account_gets_404_on_every_url_naming_account_as_objects(
    tenant_a, other_client, other_owner, account
):
    failures = []
    for r in tenant_routes():
        assert r.name, f"{r.route}: give the pattern a name so the sweep can reverse it"
        url = reverse(r.name, kwargs={p: tenant_a[p] for p in r.params})
        got = {"GET": other_client.get(url).status_code, "POST": other_client.post(url).status_code}
        # 405 is fine for the method a view does not take, as long as the other one is a 404.
        if not (set(got.values()) <= {404, 405} and 404 in got.values()):
            failures.append(f"{r.name} {url}: {got}")
    assert not failures, "\n".join(failures)
    # And nothing changed in account A.
    assert EstimateSource.objects.filter(account=account).count() == 1
    assert Membership.objects.filter(account=account).count() == 2
    assert Invitation.objects.filter(account=account).count() == 1
    assert not Membership.objects.filter(user=other_owner, account=account).exists()


def test_an_invitation_token_is_usable_only_by_the_invited_address(
    tenant_a, other_client, other_owner, account
):
    url = reverse("accounts:invitation_accept", args=[tenant_a["token"]])
    response = other_client.post(url, follow=True)
    assert "This invitation is for dana@example.org" in response.content.decode()
    assert not Membership.objects.filter(user=other_owner, account=account).exists()
    assert Invitation.objects.filter(token_hash=invitation_token_hash(tenant_a["token"])).exists()


def test_the_admin_is_for_staff_only(tenant_a, other_client):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = other_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


# --- Secrets appear nowhere ---------------------------------------------------------------


class RenderedLog(logging.Handler):
    """Every record, rendered as the project's handlers render it (redaction filter included)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        logging_conf = django_settings.LOGGING
        self.setFormatter(logging.Formatter(logging_conf["formatters"]["plain"]["format"]))
        self.addFilter(import_string(logging_conf["filters"]["redact_secrets"]["()"])())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def rendered_log():
    handler = RenderedLog()
    root = logging.getLogger()
    noisy = [logging.getLogger(n) for n in ("httpx", "httpcore", "stripe", "celery")]
    levels = [root.level, *(logger.level for logger in noisy)]
    root.addHandler(handler)
    for logger in [root, *noisy]:
        logger.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    for logger, level in zip([root, *noisy], levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def celery_payloads(monkeypatch):
    """Every task message the code sends, captured instead of published."""
    sent: list[tuple[str, list, dict]] = []

    def apply_async(self, args=None, kwargs=None, **options):
        sent.append((self.name, list(args or ()), dict(kwargs or {})))

    def send_task(self, name, args=None, kwargs=None, **options):
        sent.append((name, list(args or ()), dict(kwargs or {})))

    monkeypatch.setattr(Task, "apply_async", apply_async)
    monkeypatch.setattr(Celery, "send_task", send_task)
    return sent


def run_tasks(sent: list, start: int = 0) -> int:
    """Run the captured tasks from ``start`` in this process (their real code); the new end."""
    for name, args, kwargs in sent[start:]:
        celery_app.tasks[name].apply(args=args, kwargs=kwargs, throw=True)
    return len(sent)


class Responses:
    """A test client whose every response body is kept for the final search."""

    def __init__(self, client):
        self.client = client
        self.bodies: list[tuple[str, bytes]] = []

    def _keep(self, url, response):
        body = (
            b"".join(response.streaming_content)
            if getattr(response, "streaming", False)
            else response.content
        )
        if body[:4] == b"PK\x03\x04":  # the CSV export: search inside the zip
            with zipfile.ZipFile(io.BytesIO(body)) as z:
                body = b"\n".join(z.read(n) for n in z.namelist())
        self.bodies.append((url, body))
        return response

    def get(self, url, **kw):
        return self._keep(url, self.client.get(url, **kw))

    def post(self, url, data=None, **kw):
        return self._keep(url, self.client.post(url, data, **kw))


def admin_pages(superuser_client: Responses) -> None:
    """Every admin changelist, and the change page of every object of the registered models."""
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert superuser_client.get(url).status_code == 200, url
        for obj in model._default_manager.all()[:50]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert superuser_client.get(url).status_code == 200, url


def database_values():
    """(table, value) for every column of every row of every table of the test database."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if value is not None:
                        yield table, value


def found_in_database(secret: str) -> list[str]:
    needle = secret.encode()
    hits = []
    for table, value in database_values():
        if isinstance(value, bytes | memoryview):
            blob = bytes(value)
        elif isinstance(value, dict | list):
            blob = json.dumps(value).encode()
        else:
            blob = str(value).encode()
        if needle in blob:
            hits.append(table)
    return hits


def assert_nowhere(secret, *, log_lines, responses, payloads):
    assert not [line for line in log_lines if secret in line], "a secret reached a log line"
    leaked = [url for url, body in responses.bodies if secret.encode() in body]
    assert not leaked, f"a secret is in the response of {leaked}"
    assert secret not in repr(payloads), "a secret is in a Celery task payload"
    assert not found_in_database(secret), f"a secret is in plaintext in {found_in_database(secret)}"
    for message in mail.outbox:
        assert secret not in message.subject + message.body + repr(message.alternatives)


@pytest.fixture
def superuser_client(db):
    user = User.objects.create_superuser("staff@example.org", PASSWORD)
    client = Client()
    client.force_login(user)
    return Responses(client)


def canary_key(behaviour: str, **params) -> str:
    return make_key("anthropic", behaviour, nonce=f"CANARY{secrets.token_hex(8)}", params=params)


def test_an_admin_key_appears_nowhere_after_add_sample_and_remove(
    settings,
    vendor_sandbox,
    owner_client,
    account,
    superuser_client,
    rendered_log,
    celery_payloads,
    django_capture_on_commit_callbacks,
):
    settings.VENDOR_SANDBOX_URL = vendor_sandbox
    web = Responses(owner_client)
    good, revoked, late = canary_key("flat"), canary_key("revoked"), canary_key("late401", n=2)

    # Refused by the vendor: an inline message, nothing stored.
    response = web.post(
        "/sources/add/", {"vendor": "anthropic", "api_key": revoked, "sandbox": "1"}
    )
    assert response.status_code == 200 and not EstimateSource.objects.exists()

    # Added, validated, then sampled by the real task code.
    for key in (good, late):
        with django_capture_on_commit_callbacks(execute=True):
            response = web.post(
                "/sources/add/", {"vendor": "anthropic", "api_key": key, "sandbox": "1"}
            )
        assert response.status_code == 302, response.content.decode()[-2000:]
    assert [name for name, *_ in celery_payloads] == ["estimates.tasks.sample_run_task"] * 2
    run_tasks(celery_payloads)
    sources = {s.key_hint: s for s in EstimateSource.objects.filter(account=account)}
    assert sources[good[-4:]].status == SourceStatus.READY
    assert sources[late[-4:]].status == SourceStatus.NEEDS_ATTENTION  # 401 mid-sample

    dashboard = web.get("/")
    html = dashboard.content.decode()
    assert "Daily tokens" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html
    for url in ["/sources/", "/api/v1/estimate", "/billing/", "/account/"]:
        assert web.get(url).status_code == 200, url
    for source in sources.values():
        web.get(reverse("sources:replace", args=[source.public_id]))
        web.get(reverse("sources:rename", args=[source.public_id]))
    for name in ("lifecycle:export_json", "lifecycle:export_csv"):
        assert web.get(reverse(name, args=[account.public_id])).status_code == 200
    admin_pages(superuser_client)
    for key in (good, revoked, late):
        assert_nowhere(
            key,
            log_lines=rendered_log,
            responses=web,
            payloads=celery_payloads,
        )
        assert_nowhere(key, log_lines=[], responses=superuser_client, payloads=[])

    # Removed: the key is deleted; the key events remain, still without it.
    response = web.post(reverse("sources:remove", args=[sources[good[-4:]].public_id]))
    assert response.status_code == 302
    web.get("/sources/")
    admin_pages(superuser_client)
    for key in (good, revoked, late):
        assert_nowhere(key, log_lines=rendered_log, responses=web, payloads=celery_payloads)
        assert_nowhere(key, log_lines=[], responses=superuser_client, payloads=[])
    assert rendered_log, "the log capture saw nothing: is it wired?"


def test_the_stripe_secret_key_appears_nowhere_after_checkout(
    stripe_settings,
    stripe_api,
    client,
    owner_client,
    account,
    superuser_client,
    rendered_log,
    celery_payloads,
    django_capture_on_commit_callbacks,
):
    stripe_key = f"sk_test_CANARY{secrets.token_hex(16)}"
    stripe_settings.STRIPE_SECRET_KEY = stripe_key
    web = Responses(owner_client)
    subscription = stripe_subscription_object(
        sub_id="sub_new", customer="cus_new", item_id="si_new", amount=295
    )

    customers = stripe_api.post("/v1/customers").respond(
        200, json={"id": "cus_new", "object": "customer"}
    )
    stripe_api.post("/v1/checkout/sessions").respond(
        200,
        json={
            "id": "cs_1",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/1",
        },
    )
    stripe_api.get("/v1/subscriptions/sub_new").respond(200, json=subscription)
    # The first price update fails: the retry goes through a Celery task.
    update = stripe_api.post("/v1/subscriptions/sub_new")
    update.side_effect = [
        respx.MockResponse(500, json={"error": {"message": "boom"}}),
        respx.MockResponse(200, json=subscription),
    ]
    stripe_api.post("/v1/billing_portal/sessions").respond(
        200,
        json={
            "id": "bps_1",
            "object": "billing_portal.session",
            "url": "https://billing.stripe.com/p/1",
        },
    )

    web.post("/billing/band/", {"band": "agentic", "expected_price_cents": "295"})
    response = web.post("/billing/subscribe/")
    assert response.status_code == 302 and response.url.startswith("https://checkout.stripe")
    evt = event("customer.subscription.updated", subscription)
    assert post_event(client, evt).status_code == 200
    web.get("/billing/")
    with django_capture_on_commit_callbacks(execute=True):
        web.post("/billing/band/", {"band": "extreme", "expected_price_cents": "3274"})
    assert [name for name, *_ in celery_payloads] == ["billing.tasks.subscription_price_sync_task"]
    run_tasks(celery_payloads)
    web.post("/billing/manage/")
    web.get("/billing/")
    for change in OffsetChange.objects.filter(account=account):
        web.get(reverse("billing:change_detail", args=[change.public_id]))

    assert customers.call_count == 1 and update.call_count == 2
    sent = [call.request.headers.get("authorization", "") for call in stripe_api.calls]
    assert all(stripe_key in header for header in sent)  # the key went only to Stripe
    admin_pages(superuser_client)
    assert_nowhere(stripe_key, log_lines=rendered_log, responses=web, payloads=celery_payloads)
    assert_nowhere(stripe_key, log_lines=[], responses=superuser_client, payloads=[])


# --- Deployment settings and headers -----------------------------------------------------


def test_the_deployment_checks_pass_in_a_production_like_environment():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG",)}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="tokenoffset.example",
        TOKENOFFSET_ENCRYPTION_KEYS="k1:" + base64.b64encode(os.urandom(32)).decode(),
        DJANGO_SETTINGS_MODULE="tokenoffset.settings",
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


@pytest.mark.parametrize(
    ("path", "signed_in"), [("/", True), ("/docs/methodology", False), ("/auth/login/", False)]
)
def test_pages_carry_the_security_headers(production_like, owner, path, signed_in):
    client = Client()  # built after the override: the middleware reads these settings
    if signed_in:
        client.force_login(owner)
    response = client.get(path, secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "an on…= event handler"),
]


def test_no_template_has_inline_script_or_style():
    """The CSP allows neither; an inline one would silently not run in production."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


# --- CSRF, logout, rate limits ------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused(tenant_a, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    failures = []
    checked = 0
    for r in all_routes():
        if r.namespace.split(":")[0] in STAFF_NAMESPACES or r.name in CSRF_EXEMPT:
            continue
        if set(r.params) & set(NOT_TENANT_PARAMS) - {"token"}:
            continue  # allauth's key links: random keys, nothing to build them from
        url = reverse(r.name, kwargs={p: tenant_a[p] for p in r.params}) if r.name else None
        if url is None:
            continue
        status = client.post(url, {"anything": "1"}).status_code
        checked += 1
        if status != 403:
            failures.append(f"{r.name} {url}: {status}")
    assert not failures, "\n".join(failures)
    assert checked > 20
    # Nothing was done on the way.
    assert EstimateSource.objects.filter(public_id=tenant_a["source_id"]).exists()
    assert Membership.objects.filter(public_id=tenant_a["membership_id"]).exists()


def test_the_stripe_webhook_is_csrf_exempt_but_needs_a_signature(client, db):
    response = client.post("/billing/webhooks/stripe/", data="{}", content_type="application/json")
    assert response.status_code == 400


def test_logout_is_a_post(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(reverse("account_logout")).status_code == 200  # a confirmation page
    assert client.post(reverse("account_logout")).status_code == 403  # no CSRF token
    assert client.get("/").status_code == 200  # still signed in
    page = client.get(reverse("account_logout"))
    token = page.context["csrf_token"] if page.context else client.cookies["csrftoken"].value
    response = client.post(reverse("account_logout"), {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert client.get(reverse("billing:home")).status_code == 302  # signed out: to log in


def test_failed_logins_are_rate_limited(client, owner):
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": owner.email, "password": "x"})
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("billing:home")).status_code == 302


def test_key_checks_are_rate_limited_per_account(settings, vendor_sandbox, owner_client, account):
    settings.VENDOR_SANDBOX_URL = vendor_sandbox
    for _ in range(VALIDATION_ATTEMPTS):
        response = owner_client.post(
            "/sources/add/",
            {"vendor": "anthropic", "api_key": make_key("anthropic", "revoked"), "sandbox": "1"},
        )
        assert "rejected this key" in response.content.decode()
    response = owner_client.post(
        "/sources/add/",
        {"vendor": "anthropic", "api_key": make_key("anthropic", "flat"), "sandbox": "1"},
    )
    assert response.status_code == 200
    assert "Too many key checks for this account" in response.content.decode()
    assert not EstimateSource.objects.filter(account=account).exists()
