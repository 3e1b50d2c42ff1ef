"""/_ping (liveness, no database) and /_status (readiness: database reachable, schema at head)."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.core.migrations import alembic_config
from app.core.settings import Settings
from app.health.service import head_revision
from app.main import create_app

UNREACHABLE = [
    pytest.param("postgresql://postgres@127.0.0.1:1/iqt", id="postgresql-port-closed"),
    pytest.param("sqlite:///{tmp}/no/such/directory/iqt.db", id="sqlite-missing-directory"),
]


async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.engine.dispose()


@pytest.fixture(params=UNREACHABLE)
async def unreachable_client(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database cannot be reached."""
    url = str(request.param).format(tmp=tmp_path)
    app = create_app(settings.model_copy(update={"database_url": url}))
    async for client in _client_for(app):
        yield client


async def test_ping_answers_with_the_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/_ping")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"] == __version__


async def test_ping_names_the_commit_when_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"commit_sha": "abc1234"}))
    async for client in _client_for(app):
        assert (await client.get("/_ping")).json()["commit"] == "abc1234"


async def test_ping_works_without_a_database(unreachable_client: httpx.AsyncClient) -> None:
    response = await unreachable_client.get("/_ping")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_status_is_ready_at_the_latest_migration(client: httpx.AsyncClient) -> None:
    response = await client.get("/_status")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migration": head_revision()}


async def test_status_is_503_problem_when_the_database_is_unreachable(
    unreachable_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_client.get("/_status")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body["type"].endswith("/database-unavailable")
    assert body["requestId"] == response.headers["x-request-id"]
    for leak in ("127.0.0.1", "postgres", "iqt.db", "Traceback", "Errno"):
        assert leak not in response.text


@pytest.fixture
async def schema_behind_head(engine: AsyncEngine) -> AsyncIterator[str]:
    """The test database stamped at the first migration; restored afterwards."""
    base = ScriptDirectory.from_config(alembic_config()).get_base()
    assert base is not None
    if base == head_revision():
        pytest.skip("only one migration: no revision is behind head")
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": base})
    try:
        yield base
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )


async def test_status_is_503_problem_when_the_schema_is_not_at_head(
    client: httpx.AsyncClient, schema_behind_head: str
) -> None:
    response = await client.get("/_status")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "iqt migrate" in response.json()["detail"]


async def test_status_is_503_problem_on_an_empty_database(
    settings: Settings, tmp_path: Path
) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    async for client in _client_for(create_app(empty)):
        response = await client.get("/_status")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
