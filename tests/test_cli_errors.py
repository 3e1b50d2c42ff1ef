"""An operator's mistakes with `iqt`: one line on stderr, a non-zero exit code, and the traceback
only with `--debug`. `iqt serve` says where it serves and which database it uses."""

import asyncio
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from app.cli import cli
from app.core.settings import get_settings
from tests.conftest import ROOT, new_engine
from tests.keys import PRODUCTION_CREDENTIAL_KEYS

runner = CliRunner()


async def iqt(*args: str) -> Result:
    return await asyncio.to_thread(runner.invoke, cli, list(args))


def _one_error_line(result: Result) -> str:
    """The one line a failed command printed on stderr (and nothing on stdout)."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """IQT_DATABASE_URL pointing at a SQLite file that was never migrated."""
    path = tmp_path / "unmigrated.db"
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("IQT_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("IQT_SECRET_HASH_PROFILE", "CHEAPEST")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


async def test_demo_data_on_an_unmigrated_database_says_to_migrate(empty_database: Path) -> None:
    result = await iqt("demo-data", "--staff", "3")
    line = _one_error_line(result)
    assert result.exit_code == 1
    assert "iqt migrate" in line
    assert str(empty_database) in line


@pytest.mark.parametrize(
    "command",
    [["clients", "list"], ["organisations", "load-reference"], ["awards", "reevaluate"]],
)
async def test_every_database_command_refuses_an_unmigrated_database(
    empty_database: Path, command: list[str]
) -> None:
    assert "iqt migrate" in _one_error_line(await iqt(*command))


async def test_a_database_behind_the_code_is_refused_too(empty_database: Path) -> None:
    assert (await iqt("migrate")).exit_code == 0
    with sqlite3.connect(empty_database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0012'")
    line = _one_error_line(await iqt("clients", "list"))
    assert "at migration 0012" in line and "iqt migrate" in line


async def test_debug_shows_what_went_wrong_with_its_traceback(empty_database: Path) -> None:
    result = await iqt("--debug", "demo-data", "--staff", "3")
    assert result.exit_code != 0
    assert result.exception is not None and "iqt migrate" in str(result.exception)


async def test_production_without_a_signing_key_is_one_line_naming_the_setting(
    empty_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IQT_ENVIRONMENT", "production")
    monkeypatch.delenv("IQT_TOKEN_SIGNING_KEY", raising=False)
    get_settings.cache_clear()
    line = _one_error_line(await iqt("clients", "list"))
    assert "IQT_TOKEN_SIGNING_KEY" in line
    assert "--debug" in line


async def test_a_negative_staff_count_is_a_usage_error(empty_database: Path) -> None:
    assert (await iqt("migrate")).exit_code == 0
    result = await iqt("demo-data", "--staff", "-5")
    line = _one_error_line(result)
    assert result.exit_code == 2
    assert "--staff" in line
    with sqlite3.connect(empty_database) as connection:
        assert connection.execute("SELECT count(*) FROM staff_members").fetchone() == (0,)


async def test_a_mistyped_option_is_one_line(empty_database: Path) -> None:
    result = await iqt("demo-data", "--staf", "3")
    assert "--staf" in _one_error_line(result)
    assert result.exit_code == 2


@pytest.fixture
async def empty_postgresql(
    database_url: str, postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """IQT_DATABASE_URL pointing at a new, empty PostgreSQL database."""
    name = f"iqt_unmigrated_{uuid.uuid4().hex[:12]}"
    admin = new_engine(postgres_admin_url)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("IQT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield name
    finally:
        get_settings.cache_clear()
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.mark.postgresql
async def test_an_unmigrated_postgresql_database_is_refused_in_one_line(
    empty_postgresql: str,
) -> None:
    line = _one_error_line(await iqt("demo-data", "--staff", "3"))
    assert empty_postgresql in line and "iqt migrate" in line


@pytest.mark.postgresql
async def test_an_unreachable_postgresql_server_is_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = make_url(database_url).set(host="127.0.0.1", port=port)
    monkeypatch.setenv("IQT_DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        line = _one_error_line(await iqt("clients", "list"))
    finally:
        get_settings.cache_clear()
    assert str(port) in line


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    """The real entry point, as a shell runs it: stderr is all the operator sees."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "IQT_DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}",
        "IQT_ENVIRONMENT": "production",
        "IQT_TOKEN_SIGNING_KEY": "k" * 40,
        "IQT_CREDENTIAL_SIGNING_KEYS": PRODUCTION_CREDENTIAL_KEYS,
    }
    result = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "demo-data", "--staff", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and "iqt migrate" in result.stderr


def test_serve_says_where_it_serves_and_where_the_database_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IQT_DATABASE_URL", "sqlite:///./served.db")
    get_settings.cache_clear()
    served: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **options: served.append(options))
    try:
        result = runner.invoke(cli, ["serve", "--port", "8123"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served
    [line] = result.stdout.splitlines()
    assert "http://127.0.0.1:8123" in line
    assert str(tmp_path / "served.db") in line


def test_serve_names_a_postgresql_database_without_its_password() -> None:
    from app.cli import database_location

    location = database_location("postgresql://iqt:s3cret@db.internal:5432/iqt")
    assert "db.internal:5432/iqt" in location
    assert "s3cret" not in location
