"""`iqt clients rotate-secret`: a new secret, while the old one keeps working for the overlap."""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.auth import service as auth_service
from app.cli import cli
from app.core.settings import Settings, get_settings
from tests.conftest import ClientFactory

runner = CliRunner()


@pytest.fixture
def operator(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`iqt` configured for the test database, as an operator's shell would be."""
    monkeypatch.setenv("IQT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IQT_SECRET_HASH_PROFILE", "CHEAPEST")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _rotate(client_id: str, *options: str) -> dict[str, Any]:
    result = await asyncio.to_thread(
        runner.invoke, cli, ["clients", "rotate-secret", client_id, *options]
    )
    assert result.exit_code == 0, result.output
    rotated: dict[str, Any] = json.loads(result.stdout)
    return rotated


async def _token_status(client: httpx.AsyncClient, client_id: str, secret: str) -> int:
    response = await client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    return response.status_code


def _clock_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(auth_service, "utcnow", lambda: moment)


async def test_both_secrets_work_during_the_overlap(
    operator: None, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = await _rotate(creds["client_id"], "--overlap-hours", "2")

    assert rotated["clientId"] == creds["client_id"]
    assert rotated["clientSecret"] != creds["client_secret"]
    expires = datetime.fromisoformat(rotated["previousSecretExpiresAt"])
    assert timedelta(hours=1) < expires - datetime.now(UTC) <= timedelta(hours=2)
    assert await _token_status(client, creds["client_id"], rotated["clientSecret"]) == 200
    assert await _token_status(client, creds["client_id"], creds["client_secret"]) == 200


async def test_after_the_overlap_the_old_secret_is_refused(
    operator: None,
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = await _rotate(creds["client_id"], "--overlap-hours", "2")
    expires = datetime.fromisoformat(rotated["previousSecretExpiresAt"])

    _clock_at(monkeypatch, expires - timedelta(seconds=1))
    assert await _token_status(client, creds["client_id"], creds["client_secret"]) == 200
    _clock_at(monkeypatch, expires)
    assert await _token_status(client, creds["client_id"], creds["client_secret"]) == 401
    assert await _token_status(client, creds["client_id"], rotated["clientSecret"]) == 200


async def test_no_overlap_refuses_the_old_secret_at_once(
    operator: None, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = await _rotate(creds["client_id"], "--overlap-hours", "0")

    assert rotated["previousSecretExpiresAt"] is None
    assert await _token_status(client, creds["client_id"], creds["client_secret"]) == 401
    assert await _token_status(client, creds["client_id"], rotated["clientSecret"]) == 200


async def test_a_second_rotation_ends_the_first_secret(
    operator: None, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(["organisations:read"])
    second = await _rotate(creds["client_id"])
    third = await _rotate(creds["client_id"])

    assert await _token_status(client, creds["client_id"], creds["client_secret"]) == 401
    assert await _token_status(client, creds["client_id"], second["clientSecret"]) == 200
    assert await _token_status(client, creds["client_id"], third["clientSecret"]) == 200


async def test_another_clients_old_secret_does_not_open_this_client(
    operator: None, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    mine = await make_client(["organisations:read"])
    theirs = await make_client(["organisations:read"])
    await _rotate(theirs["client_id"])

    assert await _token_status(client, mine["client_id"], theirs["client_secret"]) == 401


@pytest.mark.parametrize("revoked", [False, True])
async def test_rotating_a_client_that_is_not_active_is_one_line(
    operator: None, make_client: ClientFactory, revoked: bool
) -> None:
    client_id = "iqt_nobody"
    if revoked:
        client_id = (await make_client(["organisations:read"]))["client_id"]
        await asyncio.to_thread(runner.invoke, cli, ["clients", "revoke", client_id])
    result = await asyncio.to_thread(runner.invoke, cli, ["clients", "rotate-secret", client_id])

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: No active client {client_id}."]


async def test_a_negative_overlap_is_refused(operator: None, make_client: ClientFactory) -> None:
    creds = await make_client(["organisations:read"])
    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["clients", "rotate-secret", creds["client_id"], "--overlap-hours", "-1"],
    )
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
