"""Which errors mean "the database is unavailable" (503 with Retry-After) and which are bugs
(500), on both databases; the PostgreSQL proxy tests are in test_database_faults.py."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scopes import ALL_SCOPES
from app.auth.tokens import issue_token
from app.core.openapi import operation_id
from app.core.settings import Settings
from app.main import create_app
from app.models import Event, StaffMember
from tests.conftest import ClientFactory, auth
from tests.core.test_database_faults import assert_database_unavailable
from tests.routes import api_routes, uses_session
from tests.staff.factories import person, seed_organisations


def _dbapi_error(cause: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", {}, cause, connection_invalidated=invalidated)


def _translated(error: Exception) -> Exception:
    """As SQLAlchemy's asyncpg adapter raises it: its own error, from the driver's."""
    try:
        raise Exception(str(error)) from error
    except Exception as translated:
        return translated


ERRORS = [
    pytest.param(
        _dbapi_error(asyncpg.ConnectionDoesNotExistError("closed mid-operation"), invalidated=True),
        503,
        id="connection-invalidated",
    ),
    pytest.param(
        _dbapi_error(_translated(asyncpg.CannotConnectNowError("starting up"))),
        503,
        id="postgresql-starting-up",
    ),
    pytest.param(_dbapi_error(asyncpg.AdminShutdownError("shutting down")), 503, id="shutdown"),
    pytest.param(_dbapi_error(asyncpg.TooManyConnectionsError("too many")), 503, id="full"),
    pytest.param(sa_exc.TimeoutError("QueuePool limit reached"), 503, id="pool-timeout"),
    pytest.param(
        sa_exc.OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")),
        503,
        id="sqlite-locked",
    ),
    pytest.param(
        sa_exc.OperationalError("SELEC", {}, sqlite3.OperationalError('near "SELEC": syntax')),
        500,
        id="sqlite-syntax-error",
    ),
    pytest.param(
        sa_exc.ProgrammingError("SELECT nope", {}, Exception("column nope does not exist")),
        500,
        id="programming-error",
    ),
    pytest.param(
        sa_exc.IntegrityError("INSERT", {"jobTitle": "connection is closed"}, Exception("dup")),
        500,
        id="integrity-error-whose-values-say-closed",
    ),
    pytest.param(OSError(28, "No space left on device"), 500, id="oserror-outside-the-driver"),
]


@pytest.fixture
async def failing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.engine.dispose()


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.mark.parametrize(("error", "status"), ERRORS)
async def test_database_errors_answer_503_only_when_the_database_is_unavailable(
    failing_app: FastAPI, error: Exception, status: int
) -> None:
    async def fail() -> None:
        raise error

    failing_app.add_api_route("/_fail", fail)
    response = await _get(failing_app, "/_fail")
    assert response.status_code == status, response.text
    if status == 503:
        assert_database_unavailable(response)
    else:
        assert response.json()["type"].endswith("/internal-error")
        assert "retry-after" not in response.headers


async def test_a_refused_connect_from_inside_the_driver_is_503(failing_app: FastAPI) -> None:
    async def fail() -> None:
        # asyncpg lets a refused connect through unwrapped, as an OSError from its own code.
        await asyncpg.connect("postgresql://postgres@127.0.0.1:1/iqt", timeout=5)

    failing_app.add_api_route("/_fail", fail)
    assert_database_unavailable(await _get(failing_app, "/_fail"))


UNREACHABLE = [
    pytest.param("postgresql://postgres@127.0.0.1:1/iqt", id="postgresql-port-closed"),
    pytest.param("sqlite:///{tmp}/no/such/directory/iqt.db", id="sqlite-missing-directory"),
]


@pytest.mark.parametrize("url", UNREACHABLE)
async def test_requests_answer_503_when_the_database_is_unreachable(
    settings: Settings, tmp_path: Path, url: str
) -> None:
    app = create_app(settings.model_copy(update={"database_url": url.format(tmp=tmp_path)}))
    token = issue_token(settings, "iqt_someone", sorted(ALL_SCOPES), None)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert_database_unavailable(await client.get("/staff", headers=headers))
            written = await client.put("/staff/100001", json=person(), headers=headers)
            assert_database_unavailable(written)
            issued = await client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
            )
            assert_database_unavailable(issued)
    finally:
        await app.state.engine.dispose()


async def test_a_commit_that_fails_is_503_and_stores_nothing(
    client: httpx.AsyncClient,
    app: Any,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The COMMIT's outcome is unknown to the app; the client resends (PUT is idempotent)."""
    admin = await make_client()
    await seed_organisations(client, admin)
    rollback = AsyncSession.rollback

    async def lost_commit(self: AsyncSession) -> None:
        await rollback(self)
        raise _dbapi_error(asyncpg.ConnectionDoesNotExistError("closed"), invalidated=True)

    async def failing_rollback(self: AsyncSession) -> None:
        await rollback(self)
        raise _dbapi_error(asyncpg.ConnectionDoesNotExistError("closed"), invalidated=True)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncSession, "commit", lost_commit)
        patch.setattr(AsyncSession, "rollback", failing_rollback)
        response = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert_database_unavailable(response)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(StaffMember)) == 0
        staff_events = select(func.count()).select_from(Event).where(Event.resource_type == "staff")
        assert await session.scalar(staff_events) == 0

    again = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert again.status_code == 201, again.text


def test_every_operation_that_uses_the_database_documents_503(app: FastAPI) -> None:
    using = {operation_id(r) for r in api_routes(app.routes) if uses_session(r.dependant)}
    operations = {
        operation["operationId"]: operation
        for item in app.openapi()["paths"].values()
        for operation in item.values()
    }
    assert {"listStaff", "issueAccessToken", "postStaffBatch"} <= using
    assert sorted(i for i in using if "503" not in operations[i]["responses"]) == []
    assert "503" in operations["status"]["responses"]
    problem = operations["listStaff"]["responses"]["503"]["content"]["application/problem+json"]
    assert problem["example"]["type"].endswith("/problems/database-unavailable")
