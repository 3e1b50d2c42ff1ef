"""The async engine, one session per request, and the SQLite settings the service relies on."""

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.settings import Settings


def create_engine(settings: Settings, *, bounded: bool = True) -> AsyncEngine:
    """The engine of the configured database. On PostgreSQL every wait on the server is
    bounded (``bounded``; the command line's long jobs pass False for statements): connecting,
    waiting for a pooled connection, each statement (on the client, which also covers a server
    that has gone silent, and on the server), and a transaction left idle."""
    url = make_url(settings.async_database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {"timeout": settings.database_connect_timeout_seconds}
    if bounded:
        statement = settings.database_statement_timeout_seconds
        idle = settings.database_idle_in_transaction_timeout_seconds
        connect_args["command_timeout"] = statement
        connect_args["server_settings"] = {
            "statement_timeout": str(int(statement * 1000)),
            "idle_in_transaction_session_timeout": str(int(idle * 1000)),
        }
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_args=connect_args,
        hide_parameters=True,  # errors and logs never show a row's values (personal data)
    )
    _discard_closed_connections(engine)
    return engine


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server has closed (a restart, ``pg_terminate_backend``, an idle
    timeout) is discarded when checked out, with every other connection the pool made before
    it, and the pool hands out a new one.

    The driver knows such a connection is closed as soon as the event loop has read the close,
    so this costs no round trip. ``pool_pre_ping`` asks the server instead (BEGIN, an empty
    query, ROLLBACK): three round trips each time a request or a group of completions takes a
    connection, about a sixth of those a grouped completion write makes. What this gives up:
    a connection closed in the very instant it is taken, before the event loop has read the
    close, fails its request (503, to be retried) and invalidates the pool, where a ping
    would have found it; so does one that dies after it was checked out, as before.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise InvalidatePoolError("The server closed this pooled connection.")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, and transactions that take the write lock up front.

    pysqlite's own transaction handling is switched off so that SQLAlchemy's BEGIN is the one
    that counts; ``BEGIN IMMEDIATE`` makes concurrent writers queue on the busy timeout instead
    of failing when a read transaction tries to upgrade to a write.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


NotedWriter = Callable[[AsyncSession, Request, BaseException | None], Awaitable[bool]]
"""Writes what a request noted while it ran (the audit trail does) in the request's session,
or after a failure in a session of its own; True when it wrote anything. The application
lists them in ``app.state.noted_writers``: the database layer knows no domain."""


def _noted_writers(request: Request) -> Sequence[NotedWriter]:
    writers: Sequence[NotedWriter] = getattr(request.app.state, "noted_writers", ())
    return writers


# Where a request's session is kept in its ASGI scope: absent outside a SessionRoute, None
# until a dependency asks for the session.
_SESSION = "iqt.session"


async def get_session(request: Request) -> AsyncSession:
    """The request's session: one per request, however many dependencies ask for it, made when
    the first does. ``SessionRoute`` commits it once the endpoint returns, or rolls it back."""
    if _SESSION not in request.scope:
        raise RuntimeError(
            f"{request.url.path} uses the database session but is not a SessionRoute: "
            "create its router with APIRouter(route_class=SessionRoute)."
        )
    session: AsyncSession | None = request.scope[_SESSION]
    if session is None:
        sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        session = request.scope[_SESSION] = sessionmaker()
    return session


class SessionRoute(APIRoute):
    """A route whose request session (``SessionDep``) is committed once when the endpoint
    returns and rolled back on error, before the response is sent.

    Services never commit. Entries noted during the request (``NotedWriter``: the audit
    trail) are written here, in the same transaction on success, or in a transaction of their
    own after a rollback.

    When the database goes away mid-request (or during the COMMIT itself), the rollback only
    discards the dead connection and the original error goes on to become a 503: the whole
    transaction is then either stored or not, never a part of it. A COMMIT whose answer was
    lost may have been stored: the problem's detail tells the client how to resend safely.

    The session's end is seen to here, around the endpoint, rather than by a dependency with
    ``yield``: FastAPI enters and leaves such a dependency through context managers and a
    cancel scope of their own on every request, a cost the busiest writes paid for nothing.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_in_session(request: Request) -> Response:
            request.scope[_SESSION] = None
            try:
                response = await handle(request)
                session = request.scope[_SESSION]
                if session is not None:
                    for write_noted in _noted_writers(request):
                        await write_noted(session, request, None)
                    if session.in_transaction() or session.new or session.dirty or session.deleted:
                        await session.commit()
                return response
            except Exception as exc:
                session = request.scope[_SESSION]
                if session is not None:
                    await _roll_back(session, request)
                    await _write_failure_audit(request.app.state.sessionmaker, request, exc)
                raise
            finally:
                session = request.scope[_SESSION]
                if session is not None and _holds_anything(session):
                    async with session:  # closes it as ``async with sessionmaker()`` does
                        pass

        return handle_in_session


def _holds_anything(session: AsyncSession) -> bool:
    """Whether closing the session has anything to do: a transaction (and so a connection)
    or objects to let go of. A request whose session was never used (a completion written
    by a group commit, its client known) skips the close, which ``async with`` runs in a task
    of its own: a task per request for nothing."""
    return bool(session.in_transaction() or session.identity_map or session.new or session.deleted)


async def _roll_back(session: AsyncSession, request: Request) -> None:
    """Rolls back; a rollback that fails too (the connection is gone) must not hide the error
    that caused it, and leaves nothing behind: the server drops an unfinished transaction."""
    try:
        await session.rollback()
    except Exception as error:
        request.app.state.logger.warning("database.rollback_failed", error=type(error).__name__)


async def _write_failure_audit(
    sessionmaker: async_sessionmaker[AsyncSession], request: Request, exc: BaseException
) -> None:
    try:
        async with sessionmaker() as session:
            wrote = [await write(session, request, exc) for write in _noted_writers(request)]
            if any(wrote):
                await session.commit()
    except Exception:
        request.app.state.logger.warning("audit.failure_record_not_written")


SessionDep = Annotated[AsyncSession, Depends(get_session)]
