"""Google service-account keys for tests: generated at run time, never committed."""

from __future__ import annotations

import base64
import json
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_URL = "https://oauth2.googleapis.com/token"
MONITORING = "https://monitoring.googleapis.com"
EMAIL = "token-offset@acme-ml-prod.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef0123456789abcdef7a1c"
ACCESS_TOKEN = "ya29.c.b0AXv0zTMzY2NjQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA"
VERTEX = "aiplatform.googleapis.com/publisher/online_serving/token_count"
GEMINI_OUT = "generativelanguage.googleapis.com/generate_content_usage_output_token_count"
GEMINI_PAID_IN = (
    "generativelanguage.googleapis.com/quota/generate_content_paid_tier_input_token_count/usage"
)


@cache
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem() -> str:
    return (
        private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def key_file(**overrides) -> str:
    """A service-account JSON shaped like Google's download (token_uri points elsewhere)."""
    data = {
        "type": "service_account",
        "project_id": "acme-ml-prod",
        "private_key_id": KEY_ID,
        "private_key": pem(),
        "client_email": EMAIL,
        "client_id": "104512345678901234567",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://attacker.example/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/x",
        "universe_domain": "googleapis.com",
    }
    data.update(overrides)
    return json.dumps({k: v for k, v in data.items() if v is not None}, indent=2)


def jwt_parts(token: str) -> tuple[dict, dict, bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWT."""

    def unb64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    head, body, signature = token.split(".")
    return (
        json.loads(unb64(head)),
        json.loads(unb64(body)),
        f"{head}.{body}".encode(),
        unb64(signature),
    )


def token_ok(expires_in=3599) -> dict:
    return {"access_token": ACCESS_TOKEN, "expires_in": expires_in, "token_type": "Bearer"}


def series(model, kind, points, *, metric=VERTEX, model_label="model_user_id"):
    """One timeSeries entry; points: [(day, count)], sent newest first as Google does."""
    labels_metric = {"type": kind} if metric == VERTEX else {"model": model}
    labels_resource = {model_label: model} if metric == VERTEX else {"location": "global"}
    return {
        "metric": {"type": metric, "labels": labels_metric},
        "resource": {"type": "aiplatform.googleapis.com/PublisherModel", "labels": labels_resource},
        "metricKind": "DELTA",
        "valueType": "INT64",
        "points": [
            {
                "interval": {
                    "startTime": f"{day.isoformat()}T00:00:00Z",
                    "endTime": f"{day.fromordinal(day.toordinal() + 1).isoformat()}T00:00:00Z",
                },
                "value": {"int64Value": str(value)},
            }
            for day, value in sorted(points, reverse=True)
        ],
    }


def google_error(code: int, status: str, message: str, reason: str | None = None) -> dict:
    error = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "monitoring.googleapis.com"},
            }
        ]
    return {"error": error}


def no_metric(metric: str) -> dict:
    return google_error(404, "NOT_FOUND", f'Cannot find metric(s) that match type = "{metric}".')
