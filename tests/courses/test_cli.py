"""`iqt courses load-reference`, run against a temporary SQLite file as an operator would."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
async def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IQT_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    result = await asyncio.to_thread(runner.invoke, cli, ["migrate"])
    assert result.exit_code == 0, result.output
    yield path
    get_settings.cache_clear()


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


async def test_load_reference_creates_the_bronze_course_with_its_activity(
    database: Path,
) -> None:
    for _ in range(2):  # a second run changes nothing
        result = await asyncio.to_thread(runner.invoke, cli, ["courses", "load-reference"])
        assert result.exit_code == 0, result.output
    courses = _rows(database, "SELECT code, counts_towards, pass_required, version FROM courses")
    assert courses == [("IQT-BRONZE", "bronze", 1, 1)]
    activities = _rows(database, "SELECT activity_id FROM course_activities")
    assert activities == [("https://learning.nhs.wales/xapi/activities/iqt-bronze",)]


async def test_clients_create_with_an_xapi_home_page(database: Path) -> None:
    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "clients",
            "create",
            "--name",
            "Learning@Wales",
            "--scopes",
            "completions:write",
            "--xapi-home-page",
            "https://learning.nhs.wales",
        ],
    )
    assert result.exit_code == 0, result.output
    stored = _rows(database, "SELECT xapi_account_home_page FROM api_clients")
    assert stored == [("https://learning.nhs.wales",)]
