"""The audit trail: every write leaves a record with its outcome; GET /auditRecords reads it;
nothing in the API changes or deletes it."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import ClientFactory, auth

CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
ANEURIN = {"name": "Aneurin Bevan University Health Board", "type": "healthBoard"}


async def _records(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/auditRecords", params=params, headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_write_creates_a_success_record_with_the_request_id(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put(
        "/organisations/7A4",
        json=CARDIFF,
        headers={**auth(creds), "X-Request-ID": "audit-create-1"},
    )
    [record] = await _records(client, auth(creds))
    assert record["clientId"] == creds["client_id"]
    assert record["action"] == "create"
    assert (record["resourceType"], record["resourceId"]) == ("organisation", "7A4")
    assert record["organisation"] == "7A4"
    assert record["requestId"] == "audit-create-1"
    assert record["outcome"] == "success"
    assert record["statusCode"] is None
    assert datetime.fromisoformat(record["occurredAt"]).utcoffset() == timedelta(0)


async def test_generated_request_id_is_the_one_recorded(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    [record] = await _records(client, auth(creds))
    assert record["requestId"] == response.headers["x-request-id"]


async def test_second_write_is_recorded_as_an_update(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    await client.put("/organisations/7A4", json={**CARDIFF, "name": "Renamed"}, headers=auth(creds))
    assert [r["action"] for r in await _records(client, auth(creds))] == ["create", "update"]


async def test_failed_write_records_failure_with_the_status_answered(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    stale = await client.put(
        "/organisations/7A4",
        json={**CARDIFF, "name": "Lost update"},
        headers={**auth(creds), "If-Match": '"99"', "X-Request-ID": "audit-stale-1"},
    )
    assert stale.status_code == 412
    [record] = await _records(client, auth(creds), outcome="failure")
    assert record["requestId"] == "audit-stale-1"
    assert record["action"] == "update"
    assert record["statusCode"] == 412
    assert record["clientId"] == creds["client_id"]


async def test_failed_write_leaves_no_success_record(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    await client.put(
        "/organisations/7A4",
        json=CARDIFF,
        headers={**auth(creds), "If-Match": '"99"', "X-Request-ID": "audit-stale-2"},
    )
    records = await _records(client, auth(creds))
    assert [r["outcome"] for r in records if r["requestId"] == "audit-stale-2"] == ["failure"]


@pytest.fixture
async def crashing_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app with a throwaway write that notes an audit entry and then fails unexpectedly."""
    app: FastAPI = create_app(settings)

    @app.post("/crashingWrites/{key}")
    async def crashing_write(
        key: str,
        session: SessionDep,
        caller: Annotated[Caller, requires(Scope.ORGANISATIONS_WRITE)],
    ) -> None:
        caller.note_audit("create", "crashingWrite", key)
        raise RuntimeError("disk on fire")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.engine.dispose()


async def test_unexpected_error_records_failure_with_500(
    crashing_client: httpx.AsyncClient, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await crashing_client.post(
        "/crashingWrites/k1", headers={**auth(creds), "X-Request-ID": "audit-crash-1"}
    )
    assert response.status_code == 500
    [record] = await _records(client, auth(creds), resourceType="crashingWrite")
    assert (record["outcome"], record["statusCode"]) == ("failure", 500)
    assert record["requestId"] == "audit-crash-1"


async def test_reading_audit_records_needs_the_audit_read_scope(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read", "organisations:write"])
    response = await client.get("/auditRecords", headers=auth(creds))
    assert response.status_code == 403
    assert "audit:read" in response.json()["detail"]


async def test_reading_audit_records_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/auditRecords")).status_code == 401


async def _two_clients_writing(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> tuple[dict[str, str], dict[str, str]]:
    first = await make_client(name="first")
    second = await make_client(name="second")
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(first))
    await client.put("/organisations/7A6", json=ANEURIN, headers=auth(second))
    await client.put(
        "/organisations/7A4", json={**CARDIFF, "name": "Renamed"}, headers=auth(second)
    )
    await client.put(
        "/organisations/7A4", json=CARDIFF, headers={**auth(first), "If-Match": '"99"'}
    )
    return first, second


async def test_filter_by_client(client: httpx.AsyncClient, make_client: ClientFactory) -> None:
    first, second = await _two_clients_writing(client, make_client)
    records = await _records(client, auth(first), clientId=second["client_id"])
    assert [(r["action"], r["resourceId"]) for r in records] == [
        ("create", "7A6"),
        ("update", "7A4"),
    ]


async def test_filter_by_resource_and_action(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    first, _ = await _two_clients_writing(client, make_client)
    records = await _records(
        client, auth(first), resourceType="organisation", resourceId="7A4", action="update"
    )
    assert [r["outcome"] for r in records] == ["success", "failure"]


async def test_filter_by_outcome(client: httpx.AsyncClient, make_client: ClientFactory) -> None:
    first, _ = await _two_clients_writing(client, make_client)
    failures = await _records(client, auth(first), outcome="failure")
    assert [(r["clientId"], r["statusCode"]) for r in failures] == [(first["client_id"], 412)]


async def test_filter_by_time_in_any_offset(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    [record] = await _records(client, auth(creds))
    occurred = datetime.fromisoformat(record["occurredAt"])
    east = timezone(timedelta(hours=5))
    just_before = (occurred - timedelta(minutes=30)).astimezone(east).isoformat()
    just_after = (occurred + timedelta(minutes=30)).astimezone(east).isoformat()
    assert len(await _records(client, auth(creds), since=just_before)) == 1
    assert len(await _records(client, auth(creds), since=just_after)) == 0
    assert len(await _records(client, auth(creds), until=just_after)) == 1
    assert len(await _records(client, auth(creds), until=just_before)) == 0


async def test_time_filter_without_an_offset_is_422(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.get(
        "/auditRecords", params={"since": "2026-11-26T10:00:00"}, headers=auth(creds)
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "since"


async def test_restricted_reader_sees_only_its_organisations_records(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    await _two_clients_writing(client, make_client)
    reader = await make_client(scopes=["audit:read"], organisations=["7A6"])
    records = await _records(client, auth(reader))
    assert {r["organisation"] for r in records} == {"7A6"}


async def test_audit_records_page_with_next_links(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    first, _ = await _two_clients_writing(client, make_client)
    ids: list[int] = []
    href: str | None = "/auditRecords?pageSize=1"
    while href is not None:
        body = (await client.get(href, headers=auth(first))).json()
        ids.extend(r["id"] for r in body["data"])
        href = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(ids) == 4
    assert ids == sorted(set(ids))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_audit_records_cannot_be_changed_or_deleted(
    client: httpx.AsyncClient, make_client: ClientFactory, method: str
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    [record] = await _records(client, auth(creds))
    collection = await client.request(method, "/auditRecords", json={}, headers=auth(creds))
    assert collection.status_code == 405
    assert collection.headers["allow"] == "GET"
    single = await client.request(
        method, f"/auditRecords/{record['id']}", json={}, headers=auth(creds)
    )
    assert single.status_code in (404, 405)
    assert await _records(client, auth(creds)) == [record]


async def test_the_api_has_no_operation_that_changes_audit_records(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    audit = {path: set(operations) for path, operations in paths.items() if "audit" in path.lower()}
    assert audit == {"/auditRecords": {"get"}}


async def test_refused_writes_are_audited_with_their_client_and_status(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    restricted = await make_client(
        scopes=["organisations:read", "organisations:write"], organisations=["7A6"]
    )
    reader = await make_client(scopes=["organisations:read"])
    body = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
    hidden = await client.put("/organisations/7A4", json=body, headers=auth(restricted))
    no_scope = await client.put("/organisations/7A4", json=body, headers=auth(reader))
    assert (hidden.status_code, no_scope.status_code) == (404, 403)
    records = (await client.get("/auditRecords?outcome=failure", headers=auth(admin))).json()
    refused = {(r["clientId"], r["statusCode"], r["resourceId"]) for r in records["data"]}
    assert (restricted["client_id"], 404, "7A4") in refused
    assert (reader["client_id"], 403, "7A4") in refused
