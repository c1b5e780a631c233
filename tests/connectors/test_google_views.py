"""Connecting Google through the real views: one inline message per refusal, nothing stored on
failure, replace, and a full sample from the sandbox into daily rows and a projection."""

from datetime import timedelta

import httpx
import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from connectors import crypto, registry
from connectors.google import auth
from connectors.google.credentials import credential_from_upload
from connectors.models import EstimateSource, KeyEvent
from estimates import sampling
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from tests.connectors import google_fixtures as g
from tests.factories import EstimateSourceFactory

ADD = "sources:add_google"


@pytest.fixture(autouse=True)
def fresh_tokens():
    auth.cache_clear()
    yield
    auth.cache_clear()


@pytest.fixture
def google():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(g.TOKEN_URL).respond(200, json=g.token_ok())
        yield mock


def monitoring(mock, status=404, body=None, project="acme-ml-prod"):
    url = f"{g.MONITORING}/v3/projects/{project}/timeSeries"
    return mock.get(url).respond(status, json=body if body is not None else g.no_metric(g.VERTEX))


def upload(client, key_file=None, projects="", **extra):
    data = {"project_ids": projects, **extra}
    data["key_file"] = SimpleUploadedFile(
        "acme-ml-prod-0123.json", (key_file or g.key_file()).encode(), "application/json"
    )
    return client.post(reverse(ADD), data)


def test_owner_connects_google_with_an_uploaded_key_file(owner_client, account, google):
    monitoring(google)  # no Vertex usage yet: 404 "Cannot find metric(s)" is zero, not an error
    response = upload(owner_client)
    assert response.status_code == 302
    source = EstimateSource.objects.get(account=account)
    assert (source.vendor, source.kind) == ("google", "service_account")
    assert source.label == "Google Cloud · acme-ml-prod"
    assert source.key_hint == g.KEY_ID[-4:]
    stored = crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id)
    assert g.EMAIL in stored and "token_uri" not in stored and "client_id" not in stored
    assert KeyEvent.objects.get(source=source).kind == "added"
    assert Sample.objects.filter(source=source).exists()  # the first sample is on its way


def test_a_pasted_key_file_with_listed_projects_is_checked_per_project(owner_client, google):
    routes = [monitoring(google, project=p) for p in ("acme-ml-prod", "acme-ml-dev")]
    response = owner_client.post(
        reverse(ADD), {"key_json": g.key_file(), "project_ids": "acme-ml-prod, acme-ml-dev"}
    )
    assert response.status_code == 302
    assert [r.call_count for r in routes] == [1, 1]
    assert EstimateSource.objects.get().label == "Google Cloud · acme-ml-prod, acme-ml-dev"


def refused(response, google_calls_expected=True):
    assert response.status_code == 200
    assert not EstimateSource.objects.exists()
    page = response.content.decode()
    assert "PRIVATE KEY" not in page and g.ACCESS_TOKEN not in page
    return page


def test_a_deleted_key_says_to_create_a_new_one(owner_client, google):
    body = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    google.post(g.TOKEN_URL).respond(400, json=body)
    page = refused(upload(owner_client))
    assert "invalid_grant" in page and "Create a new JSON key" in page


def test_a_missing_viewer_role_says_what_to_grant(owner_client, google):
    monitoring(google, 403, g.google_error(403, "PERMISSION_DENIED", "Permission denied."))
    page = refused(upload(owner_client))
    assert "roles/monitoring.viewer" in page and "acme-ml-prod" in page


def test_a_disabled_monitoring_api_says_to_enable_it(owner_client, google):
    body = g.google_error(
        403, "PERMISSION_DENIED", "Cloud Monitoring API has not been used in project 123 "
        "before or it is disabled.", reason="SERVICE_DISABLED",
    )  # fmt: skip
    monitoring(google, 403, body)
    page = refused(upload(owner_client))
    assert "Enable monitoring.googleapis.com" in page


def test_an_unknown_project_says_to_check_the_id(owner_client, google):
    monitoring(google, 404, g.google_error(404, "NOT_FOUND", "Project acme-ml-prod not found."))
    page = refused(upload(owner_client))
    assert "knows no project" in page and "acme-ml-prod" in page


def test_a_project_id_in_a_bad_format_is_refused_before_any_call(owner_client, google):
    page = refused(upload(owner_client, projects="acme/../../v1/organizations"))
    assert "is not a Google Cloud project id" in page
    assert not google.calls


def test_a_file_that_is_not_a_service_account_key_is_explained(owner_client, google):
    page = refused(upload(owner_client, key_file='{"type": "authorized_user"}'))
    assert "not a service-account key" in page
    assert not google.calls


def test_members_may_not_connect_google(member_client, google):
    assert member_client.get(reverse(ADD)).status_code == 403
    assert upload(member_client).status_code == 403
    assert not EstimateSource.objects.exists()


def test_replacing_a_google_key_takes_a_new_key_file(owner_client, account, google):
    source = EstimateSourceFactory(
        account=account,
        vendor="google",
        kind="service_account",
        key=credential_from_upload(g.key_file(), "acme-ml-prod").dumps(),
    )
    page = owner_client.get(reverse("sources:replace", args=[source.public_id])).content.decode()
    assert 'type="file"' in page
    monitoring(google, project="acme-ml-dev")
    response = owner_client.post(
        reverse("sources:replace", args=[source.public_id]),
        {"key_json": g.key_file(), "project_ids": "acme-ml-dev"},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.key_hint == g.KEY_ID[-4:]
    stored = crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id)
    assert '"project_ids":["acme-ml-dev"]' in stored


def test_another_accounts_google_source_cannot_be_replaced(other_client, account, google):
    source = EstimateSourceFactory(
        account=account,
        vendor="google",
        kind="service_account",
        key=credential_from_upload(g.key_file()).dumps(),
    )
    url = reverse("sources:replace", args=[source.public_id])
    assert other_client.get(url).status_code == 404
    assert other_client.post(url, {"key_json": g.key_file()}).status_code == 404
    assert not google.calls


def test_a_sandbox_key_file_samples_into_daily_rows_and_a_projection(
    owner_client, account, sandbox
):
    page = owner_client.get(reverse(ADD)).content.decode()
    assert f"{sandbox}/google/service-account.json?behaviour=flat" in page
    key_file = httpx.get(f"{sandbox}/google/service-account.json?behaviour=flat").text
    response = upload(owner_client, key_file, "sandbox-alpha sandbox-beta", sandbox="on")
    assert response.status_code == 302, response.content.decode()[:2000]
    source = EstimateSource.objects.get(account=account)
    assert source.is_sandbox and source.label.endswith("(sandbox)")
    sample = Sample.objects.filter(source=source).latest("pk")
    done = sampling.sample_run(sample_id=sample.pk)
    assert done.status == "succeeded", done.error
    rows = DailyUsage.objects.filter(source=source)
    assert rows.dates("date", "day").count() == 90
    last = done.window_end - timedelta(days=1)
    day = {(r.service_tier, r.model): (r.uncached_input, r.output) for r in rows.filter(date=last)}
    assert day == {  # two projects of the sandbox's `flat` day each
        ("vertex-ai", "gemini-2.5-flash"): (6_000_000, 600_000),
        ("vertex-ai", "gemini-2.5-pro"): (2_000_000, 240_000),
        ("gemini-api", "gemini-2.0-flash"): (5_000_000, 500_000),
    }
    assert not rows.exclude(cache_read=0).exists() and not DailyCost.objects.exists()
    assert Projection.objects.filter(source=source).exists()
    assert not registry.for_source(source).has_spend  # spend: not reported
