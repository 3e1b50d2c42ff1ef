"""The `iqt` command, run against a temporary SQLite file as an operator would."""

import asyncio
import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from typer.testing import CliRunner, Result

from app.cli import cli
from app.core.settings import Settings, get_settings
from app.health.service import head_revision
from app.main import create_app
from tests.conftest import ROOT

runner = CliRunner()


async def iqt(*args: str) -> Result:
    """Runs `iqt ARGS` in a worker thread (the CLI runs its own event loop)."""
    return await asyncio.to_thread(runner.invoke, cli, list(args))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands that build the app configure logging to the runner's (closed) output."""
    saved = structlog.get_config()
    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    structlog.configure(**saved)
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


@pytest.fixture
async def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    """IQT_DATABASE_URL pointing at a fresh SQLite file, migrated with `iqt migrate`."""
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("IQT_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("IQT_SECRET_HASH_PROFILE", "CHEAPEST")
    get_settings.cache_clear()
    result = await iqt("migrate")
    assert result.exit_code == 0, result.output
    yield path
    get_settings.cache_clear()


def _rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


async def _created(*args: str) -> dict[str, str]:
    result = await iqt("clients", "create", *args)
    assert result.exit_code == 0, result.output
    created: dict[str, str] = json.loads(result.stdout)
    return created


async def _token_status(path: Path, client_id: str, secret: str) -> int:
    """Exchanges the credentials for a token with an app on the same database."""
    settings = Settings(database_url=f"sqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
    await app.state.engine.dispose()
    return response.status_code


async def test_migrate_brings_the_database_to_the_latest_migration(database: Path) -> None:
    assert _rows(database, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


async def test_clients_create_prints_id_and_secret_that_get_a_token(database: Path) -> None:
    result = await iqt(
        "clients", "create", "--name", "ESR Cardiff", "--scopes", "organisations:read,staff:write"
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"clientId", "clientSecret"}
    assert created["clientId"].startswith("iqt_")
    assert await _token_status(database, created["clientId"], created["clientSecret"]) == 200


async def test_clients_create_stores_only_a_hash_of_the_secret(database: Path) -> None:
    created = await _created("--name", "Moodle", "--scopes", "completions:write")
    [(stored,)] = _rows(database, "SELECT secret_hash FROM api_clients")
    assert created["clientSecret"] not in stored
    assert stored.startswith("$argon2")


async def test_clients_create_with_organisations_restricts_the_client(database: Path) -> None:
    await _created("--name", "Cardiff HR", "--scopes", "staff:read", "--organisations", "7A4,7A6")
    listed = json.loads((await iqt("clients", "list")).stdout)
    assert listed["organisations"] == ["7A4", "7A6"]
    assert listed["scopes"] == ["staff:read"]


async def test_clients_create_with_an_unknown_scope_fails(database: Path) -> None:
    result = await iqt("clients", "create", "--name", "x", "--scopes", "everything:all")
    assert result.exit_code == 2
    assert "everything:all" in result.output
    assert _rows(database, "SELECT count(*) FROM api_clients") == [(0,)]


async def test_clients_list_never_prints_secrets(database: Path) -> None:
    first = await _created("--name", "first", "--scopes", "organisations:read")
    second = await _created("--name", "second", "--scopes", "events:read")
    result = await iqt("clients", "list")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["clientId"] for r in rows] == [first["clientId"], second["clientId"]]
    for secret in (first["clientSecret"], second["clientSecret"]):
        assert secret not in result.output
    assert "secret" not in result.output.lower()
    assert "argon2" not in result.output


async def test_clients_revoke_stops_the_client_getting_tokens(database: Path) -> None:
    created = await _created("--name", "old", "--scopes", "organisations:read")
    result = await iqt("clients", "revoke", created["clientId"])
    assert result.exit_code == 0, result.output
    listed = json.loads((await iqt("clients", "list")).stdout)
    assert listed["revokedAt"] is not None
    assert await _token_status(database, created["clientId"], created["clientSecret"]) == 401


async def test_revoking_an_unknown_client_fails(database: Path) -> None:
    result = await iqt("clients", "revoke", "iqt_nobody")
    assert result.exit_code == 2
    assert "iqt_nobody" in result.output


async def test_organisations_load_reference_loads_the_nhs_wales_bodies(database: Path) -> None:
    result = await iqt("organisations", "load-reference")
    assert result.exit_code == 0, result.output
    assert "loaded 9 organisations" in result.stdout
    codes = {code for (code,) in _rows(database, "SELECT ods_code FROM organisations")}
    assert len(codes) == 9
    assert {"7A1", "7A4", "7A6"} <= codes


async def test_organisations_load_reference_twice_changes_nothing(database: Path) -> None:
    await iqt("organisations", "load-reference")
    events = _rows(database, "SELECT count(*) FROM events")
    again = await iqt("organisations", "load-reference")
    assert again.exit_code == 0
    assert _rows(database, "SELECT count(*) FROM organisations") == [(9,)]
    assert _rows(database, "SELECT count(*) FROM events") == events


async def test_openapi_prints_the_document_as_json(database: Path) -> None:
    result = await iqt("openapi")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.")
    assert "/organisations/{odsCode}" in document["paths"]


def test_importing_the_command_leaves_the_application_unloaded() -> None:
    """`iqt serve --workers N` starts each worker as a new interpreter that imports the `iqt`
    script (so app.cli) before it can answer its supervisor's health check; on a starved host
    the whole application took 12 s to import and workers were killed before they were ready."""
    probe = (
        "import sys, app.cli; "
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'starlette', 'asyncpg', 'alembic') or m == 'app.main'))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.split() == []


def test_serve_gives_workers_the_configured_health_check_window(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IQT_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("IQT_WORKER_HEALTHCHECK_TIMEOUT_SECONDS", "45")
    get_settings.cache_clear()
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **options: served.append(options))
    try:
        assert runner.invoke(cli, ["serve", "--workers", "2"]).exit_code == 0
        assert runner.invoke(cli, ["serve", "--timeout-worker-healthcheck", "90"]).exit_code == 0
    finally:
        get_settings.cache_clear()
    assert [options["timeout_worker_healthcheck"] for options in served] == [45, 90]
