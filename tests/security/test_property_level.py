"""OWASP API3 (broken object property level authorisation): no mass assignment — every request
model refuses unknown fields, so a body carrying a field the server owns (id, version, status,
matchStatus, source, createdAt, ...) is a 422 naming it and stores nothing — and no personal
data in the uptake answers dashboards read."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from tests.conftest import ClientFactory, auth
from tests.security.models import json_bodies, models_in, request_models, wire_names
from tests.security.routes import Operation, operations
from tests.security.test_function_level import PATH_VALUES
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL, build_world
from tests.staff.factories import batch_record

# Named by the service, never by a client, whatever the resource.
ALWAYS_SERVER_OWNED = {"id", "version", "etag", "createdAt", "updatedAt", "createdBy"}

PERSONAL_FIELDS = {
    "employeeNumber",
    "matchedEmployeeNumber",
    "reviewerEmployeeNumber",
    "givenName",
    "familyName",
    "name",
    "workEmail",
    "email",
    "mbox",
    "jobTitle",
    "startDate",
    "endDate",
}


def test_every_request_model_refuses_unknown_fields(app: FastAPI) -> None:
    models = request_models(app)
    assert len(models) > 20
    lenient = sorted(m.__name__ for m in models if m.model_config.get("extra") != "forbid")
    assert lenient == []


def _server_owned(app: FastAPI, operation: Operation, body: type[BaseModel]) -> set[str]:
    """What the answer holds that the request may not say: the response's fields and the usual
    server-owned names, less the request's own fields."""
    answer = operations(app)[operation].response_model
    answered = wire_names(answer) if isinstance(answer, type) else set()
    return (answered | ALWAYS_SERVER_OWNED) - wire_names(body)


def test_the_server_owned_fields_include_the_obvious_ones(app: FastAPI) -> None:
    bodies = json_bodies(app)
    owned = {op: _server_owned(app, op, model) for op, model in bodies.items()}
    assert {"status", "matchStatus", "source", "matchedEmployeeNumber"} <= owned[
        ("POST", "/completions")
    ]
    assert {"status", "approvedAt", "submittedAt"} <= owned[("POST", "/improvementProjects")]
    assert {"status", "revokedAt", "rulesVersion"} <= owned[("POST", "/awards")]
    assert {"total", "reviewerClientId"} <= owned[
        ("POST", "/improvementProjects/{projectId}/reviews")
    ]
    assert {"employeeNumber", "active"} <= owned[("PATCH", "/staff/{employeeNumber}")]


async def test_a_body_naming_server_owned_fields_is_422_naming_each(
    app: FastAPI, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    refused: dict[Operation, Any] = {}
    for (method, path), model in sorted(json_bodies(app).items()):
        owned = _server_owned(app, (method, path), model)
        response = await client.request(
            method,
            path.format(**PATH_VALUES),
            json=dict.fromkeys(owned, "x"),
            headers={**auth(admin), "If-Match": '"1"'},
        )
        named = {p["name"] for p in response.json().get("invalidParams", [])}
        if response.status_code != 422 or not owned <= named:
            refused[(method, path)] = (response.status_code, sorted(owned - named))
    assert refused == {}


@pytest.mark.parametrize(
    ("url", "record"),
    [
        ("/staffBatches", batch_record("400001", id=7, version=3, active=False)),
        (
            "/completionBatches",
            {
                "employeeNumber": "400001",
                "courseCode": "IQT-BRONZE",
                "completedAt": "2026-01-15T10:30:00Z",
                "externalId": "cc-1",
                "matchStatus": "matched",
                "source": "someone-else",
                "status": "recorded",
            },
        ),
    ],
    ids=["staff", "completions"],
)
async def test_a_batch_record_naming_server_owned_fields_is_rejected_and_not_stored(
    client: httpx.AsyncClient, make_client: ClientFactory, url: str, record: dict[str, Any]
) -> None:
    admin = await make_client()
    await build_world(client, make_client)
    envelope = {"mode": "upsert"} if url == "/staffBatches" else {}
    response = await client.post(url, json={**envelope, "records": [record]}, headers=auth(admin))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rejected"] == 1
    named = {reason["name"] for reason in result["rejections"][0]["reasons"]}
    assert named == set(record) - {
        "employeeNumber",
        "courseCode",
        "completedAt",
        "externalId",
        *batch_record("400001"),
    }
    assert (await client.get("/staff/400001", headers=auth(admin))).status_code == 404


def _uptake_operations(app: FastAPI) -> list[Operation]:
    found = sorted(op for op in operations(app) if op[1].startswith("/uptake"))
    assert len(found) >= 4
    return found


def test_no_uptake_answer_has_a_personal_field(app: FastAPI) -> None:
    routes = operations(app)
    fields = {
        (op, name)
        for op in _uptake_operations(app)
        for model in models_in(routes[op].response_model)
        for name in wire_names(model)
    }
    assert sorted(pair for pair in fields if pair[1] in PERSONAL_FIELDS) == []


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


@pytest.mark.parametrize("scopes", [["uptake:read", "organisations:read"], None])
async def test_uptake_answers_hold_no_personal_data(
    app: FastAPI, client: httpx.AsyncClient, make_client: ClientFactory, scopes: list[str] | None
) -> None:
    await build_world(client, make_client)
    reader = await make_client(scopes=scopes, name="dashboard")
    params = {
        "/uptake": {"groupBy": "organisation,staffGroup"},
        "/uptake/timeSeries": {"groupBy": "organisation"},
        "/uptake/board": {},
    }
    answers = []
    for method, path in _uptake_operations(app):
        for accept in ("application/json", "text/csv"):
            response = await client.request(
                method,
                path,
                params=params.get(path, {}),
                headers={**auth(reader), "Accept": accept},
            )
            assert response.status_code == 200, (path, response.text)
            answers.append(response)
    for response in answers:
        assert [s for s in (GIVEN_NAME, FAMILY_NAME, WORK_EMAIL) if s in response.text] == []
        if response.headers["content-type"].startswith("application/json"):
            assert _keys(response.json()) & PERSONAL_FIELDS == set()
        else:
            header = response.text.splitlines()[0].split(",")
            assert set(header) & PERSONAL_FIELDS == set()
