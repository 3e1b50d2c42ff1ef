"""X-Request-ID and X-Correlation-ID: accepted, generated when absent, never trusted when
malformed, echoed on every response and bound into the access log."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import ClientFactory, auth

MALFORMED = [
    pytest.param("has spaces in it", id="spaces"),
    pytest.param("x" * 300, id="300-chars"),
    pytest.param("semi;colon", id="semicolon"),
    pytest.param('quote"d', id="quote"),
]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/_ping", headers={"X-Request-ID": "esr-batch-42.7"})
    assert response.headers["x-request-id"] == "esr-batch-42.7"


async def test_correlation_id_is_echoed_separately(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/_ping", headers={"X-Request-ID": "req-1", "X-Correlation-ID": "journey-9"}
    )
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["x-correlation-id"] == "journey-9"


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/_ping")
    second = await client.get("/_ping")
    assert _is_uuid(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_correlation_id_defaults_to_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/_ping", headers={"X-Request-ID": "req-2"})
    assert response.headers["x-correlation-id"] == "req-2"


@pytest.mark.parametrize("malformed", MALFORMED)
async def test_malformed_request_id_is_replaced_by_a_fresh_one(
    client: httpx.AsyncClient, malformed: str
) -> None:
    response = await client.get("/_ping", headers={"X-Request-ID": malformed})
    assert response.headers["x-request-id"] != malformed
    assert _is_uuid(response.headers["x-request-id"])


@pytest.mark.parametrize("malformed", MALFORMED)
async def test_malformed_correlation_id_is_replaced(
    client: httpx.AsyncClient, malformed: str
) -> None:
    response = await client.get(
        "/_ping", headers={"X-Request-ID": "req-3", "X-Correlation-ID": malformed}
    )
    assert response.headers["x-correlation-id"] == "req-3"


async def test_ids_are_echoed_on_problem_responses(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/no/such/route", headers={"X-Request-ID": "req-4", "X-Correlation-ID": "journey-4"}
    )
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "req-4"
    assert response.headers["x-correlation-id"] == "journey-4"
    assert response.json()["requestId"] == "req-4"


async def test_ids_are_echoed_when_the_body_is_refused_before_routing(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"max_request_body_bytes": 1024}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.put(
            "/organisations/7A4", content=b"x" * 2000, headers={"X-Request-ID": "req-5"}
        )
    await app.state.engine.dispose()
    assert response.status_code == 413
    assert response.headers["x-request-id"] == "req-5"
    assert response.json()["requestId"] == "req-5"


@pytest.fixture
async def logged(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, list[Any]]]:
    """A fresh app whose log lines are captured (its logger is first used inside the capture)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, entries
    await app.state.engine.dispose()


async def test_access_log_names_request_client_route_status_and_duration(
    logged: tuple[httpx.AsyncClient, list[Any]], make_client: ClientFactory
) -> None:
    client, entries = logged
    creds = await make_client()
    await client.get(
        "/organisations/7A4",
        headers={**auth(creds), "X-Request-ID": "req-6", "X-Correlation-ID": "journey-6"},
    )
    [line] = [e for e in entries if e["event"] == "request"]
    assert line["request_id"] == "req-6"
    assert line["correlation_id"] == "journey-6"
    assert line["client_id"] == creds["client_id"]
    assert line["route"] == "/organisations/{odsCode}"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float)


async def test_replaced_request_id_is_noted_in_the_log(
    logged: tuple[httpx.AsyncClient, list[Any]],
) -> None:
    client, entries = logged
    response = await client.get("/_ping", headers={"X-Request-ID": "not trusted"})
    [line] = [e for e in entries if e["event"] == "request"]
    assert line["x_request_id_replaced"] is True
    assert line["request_id"] == response.headers["x-request-id"]
    assert "not trusted" not in str(line)
