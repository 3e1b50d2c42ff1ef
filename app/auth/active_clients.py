"""Active API clients by id, kept per process while PostgreSQL tells each process of revocations.

Every authenticated request needs its client, to refuse the tokens of a revoked one. Reading the
client row on every request costs a database round trip; instead each process keeps the clients
it has seen, and a revocation (``iqt clients revoke``) sends ``NOTIFY iqt_client_revoked`` in its
own transaction: every listening process forgets the client when the revocation commits, so its
tokens stop working at once. While a process has no listening connection (SQLite, startup, or a
lost connection until it is re-established) it keeps nothing and reads the row every time.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.core.logging import get_logger
from app.core.tasks import stop_task

CHANNEL = "iqt_client_revoked"
_HEALTH_CHECK_SECONDS = 5.0
_RECONNECT_SECONDS = 1.0
log = get_logger("iqt.auth.clients")


@dataclass(frozen=True)
class ActiveClient:
    client_id: str
    scopes: frozenset[str]
    organisations: frozenset[str] | None
    # Overrides IQT_RATE_LIMIT for this client (app/ratelimits).
    rate_limit: str | None = None


async def announce_revocation(session: AsyncSession, client_id: str) -> None:
    """Tells every process, when this transaction commits, to forget the client."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": client_id}
        )


class ActiveClients:
    def __init__(self) -> None:
        self._known: dict[str, ActiveClient] = {}
        self._listening = False
        # Bumped whenever kept clients may be stale: a lookup that started before keeps nothing.
        self._generation = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        return self._listening

    async def lookup(self, session: AsyncSession, client_id: str) -> ActiveClient | None:
        if self._listening and (known := self._known.get(client_id)) is not None:
            return known
        generation = self._generation
        row = await repository.get_active_client(session, client_id)
        if row is None:
            return None
        client = ActiveClient(
            client_id=row.client_id,
            scopes=frozenset(row.scopes),
            organisations=frozenset(row.organisations) if row.organisations is not None else None,
            rate_limit=row.rate_limit,
        )
        if self._listening and generation == self._generation:
            self._known[client_id] = client
        return client

    def start(self, database_url: str) -> None:
        """Listens for revocations in the background (PostgreSQL only)."""
        url = make_url(database_url)
        if url.get_backend_name() != "postgresql" or self._task is not None:
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._task = asyncio.create_task(self._listen(dsn), name="iqt-client-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None
        self._stop_keeping()

    def _forget(self, *args: Any) -> None:
        """asyncpg's notification callback: (connection, pid, channel, payload)."""
        self._generation += 1
        self._known.pop(str(args[-1]), None)

    def _stop_keeping(self) -> None:
        self._listening = False
        self._generation += 1
        self._known.clear()

    async def _listen(self, dsn: str) -> None:
        while True:
            try:
                await self._listen_once(dsn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # _listen_once has stopped keeping clients; reconnect
                log.warning("clients.revocation_listener_lost", error=type(exc).__name__)
            await asyncio.sleep(_RECONNECT_SECONDS)

    async def _listen_once(self, dsn: str) -> None:
        """Keeps clients while one listening connection lives (checked every few seconds)."""
        connection = await asyncpg.connect(dsn, timeout=5)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(CHANNEL, self._forget)
            self._generation += 1
            self._listening = True
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), _HEALTH_CHECK_SECONDS)
                if not lost.is_set():
                    await asyncio.wait_for(connection.execute("SELECT 1"), 5)
        finally:
            self._stop_keeping()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)
