"""OWASP API4 (unrestricted resource consumption): every input has a bound. Body, batch, page
and rate limits have tests of their own (listed in docs/security.md); these check that every
string, array and integer a client can send — body fields and parameters alike — is bounded in
the contract, and that ids beyond the database's range are refused, not a 500."""

import re
from typing import Any

import httpx
from fastapi import FastAPI

from app.completions.schemas import MAX_BATCH_RECORDS
from tests.conftest import ClientFactory, auth
from tests.security.models import request_models
from tests.security.test_function_level import PATH_VALUES

# Bounded by their format: dates, times and UUIDs by their syntax; e-mail addresses by the
# validator (254 characters in all, RFC 5321).
BOUNDED_FORMATS = {"date", "date-time", "email", "uuid"}
BIGINT_MAX = 2**63 - 1


def _bounded_pattern(pattern: str) -> bool:
    """Anchored, with no unbounded repetition outside a character class."""
    bare = re.sub(r"\[(\\.|[^\]])*\]", "C", re.sub(r"\\[^\[\]]", "e", pattern))
    return (
        pattern.startswith("^") and pattern.endswith("$") and not re.search(r"[*+]|\{\d*,\}", bare)
    )


def _unbounded(schema: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return _unbounded(definitions[schema["$ref"].split("/")[-1]], definitions)
    for alternatives in ("anyOf", "oneOf", "allOf"):
        if alternatives in schema:
            return [u for s in schema[alternatives] for u in _unbounded(s, definitions)]
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return []
    if kind == "string":
        bounded = (
            "maxLength" in schema
            or schema.get("format") in BOUNDED_FORMATS
            or _bounded_pattern(schema.get("pattern", ""))
        )
        return [] if bounded else ["string"]
    if kind == "array":
        items = schema.get("items", {})
        finite = schema.get("uniqueItems") and "enum" in definitions.get(
            items.get("$ref", "").split("/")[-1], items
        )
        own = [] if "maxItems" in schema or finite else ["array"]
        return own + _unbounded(items, definitions)
    if kind in ("integer", "number"):
        return [] if "maximum" in schema or "exclusiveMaximum" in schema else [kind]
    return []


def test_every_field_of_every_request_body_is_bounded(app: FastAPI) -> None:
    found = []
    for model in request_models(app):
        schema = model.model_json_schema(mode="validation")
        definitions = schema.get("$defs", {})
        for name, field in schema.get("properties", {}).items():
            found += [(model.__name__, name, u) for u in _unbounded(field, definitions)]
    assert sorted(found) == []


def test_every_parameter_is_bounded(app: FastAPI) -> None:
    document = app.openapi()
    definitions = document["components"]["schemas"]
    found = [
        (method.upper(), path, parameter["name"], u)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        for u in _unbounded(parameter.get("schema", {}), definitions)
    ]
    assert sorted(found) == []


def test_the_bound_checks_see_an_unbounded_field() -> None:
    assert _unbounded({"type": "string"}, {}) == ["string"]
    assert _unbounded({"type": "string", "pattern": "^https?://\\S+$"}, {}) == ["string"]
    assert _unbounded({"type": "string", "pattern": "^[A-Z0-9]{3,10}$"}, {}) == []
    assert _unbounded({"type": "array", "items": {"type": "string", "maxLength": 9}}, {}) == [
        "array"
    ]
    assert _unbounded({"type": "integer", "minimum": 1}, {}) == ["integer"]


async def test_ids_beyond_their_documented_maximum_are_422_not_500(
    app: FastAPI, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    answers = {}
    for path, item in app.openapi()["paths"].items():
        integers = {
            p["name"]: p["schema"].get("maximum", BIGINT_MAX)
            for p in item.get("get", {}).get("parameters", [])
            if p["in"] == "path" and p["schema"].get("type") == "integer"
        }
        if not integers:
            continue
        assert max(integers.values()) <= BIGINT_MAX, path
        beyond = {name: str(top + 1) for name, top in integers.items()}
        url = path.format(**{**PATH_VALUES, **beyond})
        answers[path] = (await client.get(url, headers=auth(admin))).status_code
        at_most = {name: str(top) for name, top in integers.items()}
        url = path.format(**{**PATH_VALUES, **at_most})
        assert (await client.get(url, headers=auth(admin))).status_code == 404, path
    assert len(answers) >= 4
    assert answers == dict.fromkeys(answers, 422)


async def test_an_overlong_email_address_is_422(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    body = {
        "workEmail": "a" * 250 + "@wales.nhs.uk",
        "courseCode": "IQT-BRONZE",
        "completedAt": "2026-01-15T10:30:00Z",
        "externalId": "cc-1",
    }
    response = await client.post("/completions", json=body, headers=auth(admin))
    assert response.status_code == 422
    assert "workEmail" in [p["name"] for p in response.json()["invalidParams"]]


async def test_more_than_10000_xapi_statements_in_one_request_is_413(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    one = {
        "actor": {"mbox": "mailto:a@wales.nhs.uk"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://learning.nhs.wales/xapi/activities/iqt-bronze"},
    }
    response = await client.post(
        "/xapi/statements",
        json=[one] * (MAX_BATCH_RECORDS + 1),
        headers={**auth(admin), "X-Experience-API-Version": "1.0.3"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["type"].endswith("/payload-too-large")
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert (await client.get("/completions", headers=auth(admin))).json()["data"] == []
