"""Validate response bodies against OpenAI's official OpenAPI definitions of the usage endpoints.

schemas/openai-usage-openapi.json is an unchanged extract of openai/openai-openapi (MIT licence,
commit f85dbe223d40e1a31cba812ab2d755c7e98a92a3): the completions usage and costs paths and every
schema they reference, the embeddings and moderations result schemas among them. Use it for test
fixtures and for anything that serves fake OpenAI pages.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMA_FILE = Path(__file__).parent / "schemas" / "openai-usage-openapi.json"
_URI = "urn:openai:usage-openapi"

# UsageTimeBucket.results is a oneOf over every usage family (and costs), so a costs row would
# pass on a completions page. Per path, also check each result against its own schema.
RESULT_SCHEMAS = {
    "/organization/usage/completions": "UsageCompletionsResult",
    "/organization/usage/embeddings": "UsageEmbeddingsResult",
    "/organization/usage/moderations": "UsageModerationsResult",
    "/organization/costs": "CostsResult",
}
# The other usage families share completions' envelope (UsageResponse, whose buckets' results
# are a oneOf over every family); the extract holds their result schemas but not their paths.
ENVELOPE_ONLY = {
    "/organization/usage/embeddings": "/components/schemas/UsageResponse",
    "/organization/usage/moderations": "/components/schemas/UsageResponse",
}


@cache
def _document() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; "#/components/…" refs resolve in the document.
    return Registry().with_resource(_URI, DRAFT202012.create_resource(_document()))


def _pointer_part(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def spec_path(path: str) -> str:
    """The OpenAPI path key for a URL or request path ("/v1/organization/costs?…" works)."""
    path = urlsplit(path).path
    return path[len("/v1") :] if path.startswith("/v1/") else path


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=_registry())


def validate_openai_response(
    path: str, body: dict[str, Any], *, status: int = 200, method: str = "get"
) -> None:
    """Raise jsonschema.ValidationError unless body matches the documented response for path."""
    key = spec_path(path)
    if key in ENVELOPE_ONLY and status == 200:
        _validator(ENVELOPE_ONLY[key]).validate(body)
        _validate_results(key, body)
        return
    if key not in _document()["paths"]:
        raise KeyError(f"no OpenAPI definition for {key!r} in {SCHEMA_FILE.name}")
    pointer = "/".join(
        [
            "",
            "paths",
            _pointer_part(key),
            method.lower(),
            "responses",
            str(status),
            "content",
            _pointer_part("application/json"),
            "schema",
        ]
    )
    _validator(pointer).validate(body)
    if status == 200:
        _validate_results(key, body)


def _validate_results(key: str, body: dict[str, Any]) -> None:
    result_schema = RESULT_SCHEMAS.get(key)
    if result_schema:
        result_validator = _validator(f"/components/schemas/{result_schema}")
        for bucket in body["data"]:
            for result in bucket["results"]:
                result_validator.validate(result)


def validate_openai_error(body: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless body matches the documented ErrorResponse."""
    _validator("/components/schemas/ErrorResponse").validate(body)
