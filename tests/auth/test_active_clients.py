"""Clients kept per process on PostgreSQL, forgotten at once when revoked (LISTEN/NOTIFY), and
read from the database every time while no listening connection is alive."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from app.auth import service as auth_service
from app.auth.active_clients import ActiveClients
from app.core.settings import Settings
from app.main import create_app
from app.models import ApiClient
from tests.conftest import ClientFactory, auth, eventually

pytestmark = pytest.mark.postgresql


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[ActiveClients]:
    clients = ActiveClients()
    clients.start(settings.async_database_url)

    async def listening() -> bool:
        return clients.listening

    assert await eventually(listening), "no listening connection"
    yield clients
    await clients.stop()


async def revoke(app: Any, client_id: str) -> None:
    async with app.state.sessionmaker() as session:
        await auth_service.revoke_client(session, client_id)
        await session.commit()


async def test_a_kept_client_is_forgotten_when_its_revocation_commits(
    app: Any, make_client: ClientFactory, clients: ActiveClients
) -> None:
    creds = await make_client(["uptake:read"])
    async with app.state.sessionmaker() as session:
        assert await clients.lookup(session, creds["client_id"]) is not None
        # Changed behind the service's back (no notification): the kept copy still answers,
        # which shows the row is not read again.
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == creds["client_id"])
            .values(scopes=["audit:read"])
        )
        await session.commit()
        kept = await clients.lookup(session, creds["client_id"])
        assert kept is not None and kept.scopes == {"uptake:read"}

    await revoke(app, creds["client_id"])

    async def forgotten() -> bool:
        async with app.state.sessionmaker() as session:
            return await clients.lookup(session, creds["client_id"]) is None

    assert await eventually(forgotten), "the revoked client is still kept"


async def test_a_lost_listening_connection_stops_keeping_until_it_is_back(
    app: Any, make_client: ClientFactory, clients: ActiveClients
) -> None:
    creds = await make_client(["uptake:read"])
    async with app.state.sessionmaker() as session:
        await clients.lookup(session, creds["client_id"])
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN %iqt_client_revoked%'"
            )
        )
        await session.commit()

    async def not_listening() -> bool:
        return not clients.listening

    async def listening() -> bool:
        return clients.listening

    assert await eventually(not_listening), "the listening connection is still alive"
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == creds["client_id"])
            .values(scopes=["audit:read"])
        )
        await session.commit()
        read_again = await clients.lookup(session, creds["client_id"])
        assert read_again is not None and read_again.scopes == {"audit:read"}
    assert await eventually(listening), "no listening connection"


async def test_a_revoked_clients_token_is_refused_at_once_by_a_running_service(
    settings: Settings, make_client: ClientFactory, app: Any
) -> None:
    creds = await make_client(["uptake:read"])
    service = create_app(settings.model_copy(update={"run_background_jobs": False}))
    transport = httpx.ASGITransport(app=service)
    async with (
        service.router.lifespan_context(service),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):

        async def listening() -> bool:
            return bool(service.state.clients.listening)

        assert await eventually(listening), "no listening connection"
        for _ in range(3):
            assert (await client.get("/uptake", headers=auth(creds))).status_code == 200

        await revoke(app, creds["client_id"])

        async def refused() -> bool:
            response = await client.get("/uptake", headers=auth(creds))
            return response.status_code == 401

        assert await eventually(refused), "the revoked client's token is still accepted"
