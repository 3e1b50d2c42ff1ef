"""The OpenAPI document is the contract: checked in, equal to the served one, and complete."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ROOT

CHECKED_IN = ROOT / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
REGENERATE = "regenerate with `make openapi` (or `iqt openapi > openapi.json`) and commit it"


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _differences(checked_in: dict[str, Any], served: dict[str, Any]) -> list[str]:
    """Where the two documents differ, to say what changed without printing both."""
    found = [
        f"path {path}"
        for path in sorted({*checked_in["paths"], *served["paths"]})
        if checked_in["paths"].get(path) != served["paths"].get(path)
    ]
    old, new = checked_in.get("components", {}), served.get("components", {})
    old_schemas, new_schemas = old.get("schemas", {}), new.get("schemas", {})
    found += [
        f"schema {name}"
        for name in sorted({*old_schemas, *new_schemas})
        if old_schemas.get(name) != new_schemas.get(name)
    ]
    found += [
        f"components.{kind}"
        for kind in sorted({*old, *new} - {"schemas"})
        if old.get(kind) != new.get(kind)
    ]
    found += [
        key
        for key in sorted({*checked_in, *served} - {"paths", "components"})
        if checked_in.get(key) != served.get(key)
    ]
    return found


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    served: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return served


async def test_checked_in_openapi_equals_the_served_document(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    checked_in = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert checked_in == served, (
        f"openapi.json is out of date ({', '.join(_differences(checked_in, served))}): "
        + REGENERATE
    )


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_every_operation_has_a_summary_an_operation_id_and_tags(
    document: dict[str, Any],
) -> None:
    missing = [
        f"{method} {path}: {field}"
        for method, path, operation in _operations(document)
        for field in ("summary", "operationId", "tags")
        if not operation.get(field)
    ]
    assert missing == []


def test_operation_ids_are_unique_lower_camel_case(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    assert all(i[0].islower() and "_" not in i and "-" not in i for i in ids), ids


def test_authenticated_operations_document_400_401_403_and_500(
    document: dict[str, Any],
) -> None:
    """Bearer-token operations: 400 (token in the query string), 401, 403, 500."""
    missing = [
        f"{method} {path}: {status}"
        for method, path, operation in _operations(document)
        if any("oauth2" in requirement for requirement in operation.get("security", []))
        for status in ("400", "401", "403", "500")
        if status not in operation["responses"]
    ]
    assert missing == []


def test_every_operation_documents_500(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(document)
        if "500" not in operation["responses"]
    ]
    assert missing == []


def test_operations_with_a_body_document_413_and_422(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}: {status}"
        for method, path, operation in _operations(document)
        if "requestBody" in operation
        for status in ("413", "422")
        if status not in operation["responses"]
    ]
    assert missing == []


def test_error_responses_are_problem_json_with_an_example(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            content = response.get("content", {})
            problem = content.get("application/problem+json", {})
            if (
                list(content) != ["application/problem+json"]
                or problem.get("schema") != {"$ref": "#/components/schemas/Problem"}
                or problem.get("example", {}).get("status") != int(status)
            ):
                wrong.append(f"{method} {path}: {status}")
    assert wrong == []


def test_the_framework_validation_schema_is_not_advertised(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"Problem", "InvalidParam"} <= set(schemas)
