"""Google (Gemini API and Vertex AI) as a kind of source: a service-account key, pulled usage.

Token counts come from Cloud Monitoring; money only from a BigQuery billing export, which this
kind does not read: it declares no spend report.
"""

from __future__ import annotations

import httpx

from connectors.google import client
from connectors.google.credentials import CredentialProblem, credential_load
from connectors.interface import Connector, Delivery, Report, SourceKind, ValidatedKey

VIEWER_ROLE = "roles/monitoring.viewer"


def credential_problem(stored: str) -> str | None:
    """The shape check of a service-account credential (as the Google form builds it)."""
    try:
        credential_load(stored)
    except CredentialProblem as problem:
        return problem.message
    return None


def validate(http: httpx.Client, key: str) -> ValidatedKey:
    """A token and one Monitoring read per project; the project ids label the source."""
    credential = client.validate(http, key)
    return ValidatedKey(
        key=key,
        label="Google Cloud · " + ", ".join(credential.project_ids),
        hint=credential.hint,
    )


def explain_rejection(error: Exception) -> str | None:
    """What to grant or do, for each refusal Google lets us tell apart."""
    cause = getattr(error, "cause", None)
    project = getattr(error, "project", "")
    if cause is None and getattr(error, "kind", None) == "unauthorized":
        cause = "invalid_grant"
    messages = {
        "invalid_grant": "Google refused this service account key (invalid_grant): the key was "
        "deleted or rotated, or the service account was deleted. Create a new JSON key under "
        "IAM & Admin → Service accounts → Keys and upload it. Nothing was stored.",
        "no_permission": f"The service account may not read monitoring data of project "
        f"“{project}” (403). Grant it the Monitoring Viewer role ({VIEWER_ROLE}) on that "
        "project — IAM & Admin → IAM → Grant access — then try again. Nothing was stored.",
        "api_disabled": f"The Cloud Monitoring API is disabled in project “{project}” (403). "
        "Enable monitoring.googleapis.com under APIs & Services → Library, wait a minute, then "
        "try again. Nothing was stored.",
        "unknown_project": f"Google knows no project “{project}”. Check the project id "
        "(Google Cloud console → project picker → ID column) and list it exactly. Nothing was "
        "stored.",
    }
    return messages.get(cause)


CONNECTOR = Connector(
    id="google",
    name="Google",
    kind=SourceKind.SERVICE_ACCOUNT,
    delivery=Delivery.PULLED,
    sees="Daily input and output tokens by model of Vertex AI and the Gemini API, per listed "
    "project, from Cloud Monitoring; no spend and no cache split.",
    base_url_setting="GOOGLE_MONITORING_BASE_URL",
    key_shape_problem=credential_problem,
    create_key_help="create a JSON key for a service account with the Monitoring Viewer role",
    validate=validate,
    explain_rejection=explain_rejection,
    usage=Report(fetch=client.fetch_usage, max_days=client.USAGE_MAX_DAYS),
    spend=None,  # provider spend needs a BigQuery billing export: not reported
    notes="No cache split reported: input counts as uncached.",
)
