"""Every error is RFC 9457 problem+json, the framework's own included; no stack trace leaks."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.database import SessionDep
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import ClientFactory, auth

PROBLEM = "application/problem+json"
CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
LIMIT = 2048


def _assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://iqt.nhs.wales/problems/")
    assert body["title"]
    assert body["detail"]
    assert body["requestId"] == response.headers["x-request-id"]
    return body


async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.engine.dispose()


@pytest.fixture
async def small_limit_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose request body limit is 2 KiB."""
    app = create_app(settings.model_copy(update={"max_request_body_bytes": LIMIT}))
    async for client in _client_for(app):
        yield client


@pytest.fixture
async def failing_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app with throwaway routes that fail unexpectedly."""
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("Traceback secret: password=hunter2")

    @app.get("/boom-sql")
    async def boom_sql(session: SessionDep) -> None:
        await session.execute(text("SELECT secret_column FROM no_such_table"))

    async for client in _client_for(app):
        yield client


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    body = _assert_problem(await client.get("/no/such/route"), 404)
    assert body["type"].endswith("/not-found")


async def test_unknown_route_404_has_the_same_type_and_title_as_a_domain_404(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    framework = _assert_problem(await client.get("/no/such/route"), 404)
    domain = _assert_problem(await client.get("/organisations/7Z9", headers=auth(creds)), 404)
    assert (framework["type"], framework["title"]) == (domain["type"], domain["title"])


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/organisations/7A4")
    body = _assert_problem(response, 405)
    assert body["type"].endswith("/method-not-allowed")
    assert "PUT" in response.headers["allow"]


async def test_invalid_body_is_422_problem_naming_each_field(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.put(
        "/organisations/7A4", json={"type": "hospital"}, headers=auth(creds)
    )
    body = _assert_problem(response, 422)
    assert body["type"].endswith("/validation-error")
    assert {p["name"] for p in body["invalidParams"]} == {"name", "type"}
    assert all(p["reason"] for p in body["invalidParams"])


async def test_invalid_query_parameter_is_422_problem_naming_it(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.get("/organisations", params={"pageSize": "many"}, headers=auth(creds))
    body = _assert_problem(response, 422)
    assert [p["name"] for p in body["invalidParams"]] == ["pageSize"]


async def test_invalid_path_parameter_is_422_problem_naming_it(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.get("/organisations/not-an-ods-code", headers=auth(creds))
    body = _assert_problem(response, 422)
    assert [p["name"] for p in body["invalidParams"]] == ["odsCode"]


async def test_malformed_json_is_400_problem(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.put(
        "/organisations/7A4",
        content=b'{"name": "Cardiff", ',
        headers={**auth(creds), "Content-Type": "application/json"},
    )
    body = _assert_problem(response, 400)
    assert body["type"].endswith("/malformed-body")


async def test_body_over_the_limit_by_content_length_is_413_problem(
    small_limit_client: httpx.AsyncClient,
) -> None:
    response = await small_limit_client.put(
        "/organisations/7A4", json={**CARDIFF, "name": "x" * (LIMIT + 1)}
    )
    body = _assert_problem(response, 413)
    assert body["type"].endswith("/payload-too-large")
    assert str(LIMIT) in body["detail"]


async def test_streamed_body_over_the_limit_is_413_problem(
    small_limit_client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    """No Content-Length: the limit is found by counting what arrives."""
    creds = await make_client()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "healthBoard", "name": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}'

    response = await small_limit_client.put(
        "/organisations/7A4",
        content=chunks(),
        headers={**auth(creds), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    body = _assert_problem(response, 413)
    assert body["type"].endswith("/payload-too-large")


async def test_streamed_form_over_the_limit_is_413_problem(
    small_limit_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"grant_type=client_credentials&scope="
        for _ in range(8):
            yield b"x" * 512

    response = await small_limit_client.post(
        "/oauth2/token",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_problem(response, 413)


async def test_413_has_one_type_and_title_however_it_is_detected(
    small_limit_client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    big = b"x" * (LIMIT + 1)

    async def chunks() -> AsyncIterator[bytes]:
        yield big

    declared = _assert_problem(
        await small_limit_client.put("/organisations/7A4", content=big, headers=auth(creds)), 413
    )
    counted = _assert_problem(
        await small_limit_client.put("/organisations/7A4", content=chunks(), headers=auth(creds)),
        413,
    )
    assert (declared["type"], declared["title"]) == (counted["type"], counted["title"])


async def test_body_within_the_limit_is_accepted(
    small_limit_client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await small_limit_client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    assert response.status_code == 201


async def test_unexpected_error_is_a_generic_500_problem_without_a_traceback(
    failing_client: httpx.AsyncClient,
) -> None:
    response = await failing_client.get("/boom", headers={"X-Request-ID": "boom-1"})
    body = _assert_problem(response, 500)
    assert body["type"].endswith("/internal-error")
    assert body["requestId"] == "boom-1"
    for leak in ("Traceback", "RuntimeError", "hunter2", "password", 'File "'):
        assert leak not in response.text


async def test_database_error_is_a_500_problem_without_sql(
    failing_client: httpx.AsyncClient,
) -> None:
    response = await failing_client.get("/boom-sql")
    _assert_problem(response, 500)
    for leak in ("SELECT", "no_such_table", "secret_column", "sqlalchemy", "Traceback"):
        assert leak.lower() not in response.text.lower()
