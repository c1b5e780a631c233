"""A Google service-account key as the owner uploads it, and the credential we keep of it.

Of the uploaded JSON only what signing needs is kept (client_email, private_key_id, private_key)
plus the project ids to read. Everything else is dropped, `token_uri` above all: the token
endpoint is GOOGLE_OAUTH_TOKEN_URL, never a host named by an uploaded file.

Reference: https://cloud.google.com/iam/docs/keys-create-delete (the key file's fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.views.decorators.debug import sensitive_variables

MAX_UPLOAD_CHARS = 20_000  # a real key file is about 2,400 characters
MAX_PROJECTS = 20
# Project ids: 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not
# ending with a hyphen; older ids may carry a domain ("example.com:my-project"). Project numbers
# work in the API path too. https://cloud.google.com/resource-manager/docs/creating-managing-projects
PROJECT_ID = re.compile(r"^(?:[a-z][a-z0-9.-]{0,60}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
PROJECT_NUMBER = re.compile(r"^[1-9][0-9]{0,19}$")
CLIENT_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9][a-z0-9.-]{0,200}\.[a-z]{2,}$")
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_KEPT = ("client_email", "private_key_id", "private_key")


class CredentialProblem(ValueError):
    """What is wrong with an upload, for the person uploading it (never quotes key material)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GoogleCredential:
    """The stored credential: signing material and the projects to read."""

    client_email: str
    private_key_id: str
    private_key: str = field(repr=False)  # PEM, never in a repr, a log line or an error report
    project_ids: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"GoogleCredential({self.client_email!r}, key id …{self.hint}, {self.project_ids})"

    __str__ = __repr__

    @property
    def hint(self) -> str:
        """Shown to people: the end of the key id (a public identifier, not key material)."""
        return self.private_key_id[-4:]

    @cached_property
    def signer(self) -> rsa.RSAPrivateKey:
        return _rsa_key(self.private_key)

    def dumps(self) -> str:
        """The one string encrypted as the source's credential."""
        body = {name: getattr(self, name) for name in _KEPT}
        return json.dumps({**body, "project_ids": list(self.project_ids)}, separators=(",", ":"))


@sensitive_variables("pem", "key")
def _rsa_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise CredentialProblem(
            "The private_key in this file is not a readable PEM key. Download a new JSON key "
            "instead of editing the file."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialProblem("The private_key in this file is not an RSA key.")
    return key


def project_ids_parse(raw: str) -> tuple[str, ...]:
    """Project ids separated by commas, spaces or lines, each in Google's id format."""
    ids = tuple(dict.fromkeys(p for p in re.split(r"[\s,]+", (raw or "").strip()) if p))
    if len(ids) > MAX_PROJECTS:
        raise CredentialProblem(f"At most {MAX_PROJECTS} projects per source.")
    for project in ids:
        if not (PROJECT_ID.match(project) or PROJECT_NUMBER.match(project)):
            shown = project if project.isascii() and len(project) <= 40 else project[:40] + "…"
            raise CredentialProblem(
                f"“{shown}” is not a Google Cloud project id (6 to 30 lowercase letters, digits "
                "or hyphens, starting with a letter) nor a project number."
            )
    return ids


@sensitive_variables("raw", "data", "pem")
def credential_from_upload(raw: str, project_ids: str = "") -> GoogleCredential:
    """Read an uploaded service-account JSON; the projects default to its `project_id`."""
    raw = (raw or "").strip()
    if not raw:
        raise CredentialProblem("Upload or paste the service account's JSON key file.")
    if len(raw) > MAX_UPLOAD_CHARS:
        raise CredentialProblem("That is far too long for a service-account key file.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise CredentialProblem(
            "That is not JSON. Upload the key file exactly as Google downloaded it."
        ) from None
    if not isinstance(data, dict):
        raise CredentialProblem("That JSON is not a service-account key file.")
    if data.get("type") != "service_account":
        raise CredentialProblem(
            "That JSON is not a service-account key (its type is not “service_account”). "
            "Create a key under IAM & Admin → Service accounts → Keys → Add key → JSON."
        )
    missing = [name for name in _KEPT if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise CredentialProblem(f"The key file has no {', '.join(missing)}.")
    email, key_id, pem = (data[name] for name in _KEPT)
    if not CLIENT_EMAIL.match(email):
        raise CredentialProblem("The client_email in this file is not a service-account email.")
    if not KEY_ID.match(key_id):
        raise CredentialProblem("The private_key_id in this file is not a key id.")
    ids = project_ids_parse(project_ids)
    if not ids:
        default = data.get("project_id")
        if not isinstance(default, str) or not default:
            raise CredentialProblem("The file names no project_id: list the project ids to read.")
        ids = project_ids_parse(default)
    credential = GoogleCredential(email, key_id, pem, ids)
    _ = credential.signer  # refuse an unreadable key now, not at the first token request
    return credential


@sensitive_variables("stored", "data")
def credential_load(stored: str) -> GoogleCredential:
    """The credential back from its stored string (see GoogleCredential.dumps)."""
    try:
        data = json.loads(stored)
        credential = GoogleCredential(
            data["client_email"],
            data["private_key_id"],
            data["private_key"],
            tuple(data["project_ids"]),
        )
    except (ValueError, KeyError, TypeError):
        raise CredentialProblem("This is not a stored Google service-account credential.") from None
    if not credential.project_ids or any(
        not (PROJECT_ID.match(p) or PROJECT_NUMBER.match(p)) for p in credential.project_ids
    ):
        raise CredentialProblem("The stored credential lists no valid project id.")
    return credential
