"""The request's session (``SessionDep`` on a ``SessionRoute``): one per request, committed when
the endpoint returns, rolled back when it fails, closed when it holds anything, and a session
the request never used is dropped without the close ``async with`` would run in a task of its
own."""

import inspect as python_inspect
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.database import SessionDep, SessionRoute, create_sessionmaker, get_session
from app.core.logging import get_logger
from app.models import Organisation
from tests.routes import api_routes, uses_session


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[AsyncSession]:
    closed: list[AsyncSession] = []
    real_close = AsyncSession.close

    async def counting_close(self: AsyncSession) -> None:
        closed.append(self)
        await real_close(self)

    monkeypatch.setattr(AsyncSession, "close", counting_close)
    return closed


def _app(engine: AsyncEngine, router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.noted_writers = ()
    app.state.logger = get_logger("test")
    app.include_router(router)
    return app


@pytest.fixture
async def seen(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A client of an app whose routes hand over the sessions they were given."""
    router = APIRouter(route_class=SessionRoute)
    sessions: list[AsyncSession] = []
    held: list[Organisation] = []  # kept alive: a session holds its objects weakly

    async def also_session(session: SessionDep) -> AsyncSession:
        return session

    @router.get("/unused")
    async def unused(session: SessionDep) -> None:
        sessions.append(session)

    @router.get("/read")
    async def read(
        session: SessionDep, other: Annotated[AsyncSession, Depends(also_session)]
    ) -> int:
        sessions.extend([session, other])
        value = (await session.execute(text("SELECT 1"))).scalar_one()
        assert session.in_transaction()
        return int(value)

    @router.post("/organisations")
    async def add(session: SessionDep) -> None:
        sessions.append(session)
        held.append(Organisation(ods_code="7Z9", name="Test body", type="health_board"))
        session.add(held[-1])

    @router.post("/failing")
    async def failing(session: SessionDep) -> None:
        sessions.append(session)
        session.add(Organisation(ods_code="7Z8", name="Never stored", type="health_board"))
        await session.flush()
        raise RuntimeError("the endpoint failed")

    transport = httpx.ASGITransport(app=_app(engine, router), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, sessions, held


async def _stored(engine: AsyncEngine, ods_code: str) -> bool:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(
            select(Organisation.ods_code).where(Organisation.ods_code == ods_code)
        )
        return found is not None


async def test_an_unused_session_is_not_closed(
    engine: AsyncEngine, closes: list[AsyncSession], seen: Any
) -> None:
    client, sessions, _ = seen
    assert (await client.get("/unused")).status_code == 200
    assert len(sessions) == 1
    assert closes == []
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_every_dependency_of_a_request_gets_one_session(seen: Any) -> None:
    client, sessions, _ = seen
    assert (await client.get("/read")).json() == 1
    assert (await client.get("/read")).json() == 1
    first, other, second, _ = sessions
    assert first is other
    assert first is not second


async def test_a_committed_statement_leaves_nothing_to_close(
    engine: AsyncEngine, closes: list[AsyncSession], seen: Any
) -> None:
    client, sessions, _ = seen
    assert (await client.get("/read")).status_code == 200
    assert not sessions[0].in_transaction()  # committed: the connection is back in the pool
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert closes == []


async def test_a_session_holding_objects_is_committed_and_closed(
    engine: AsyncEngine, closes: list[AsyncSession], seen: Any
) -> None:
    client, sessions, held = seen
    assert (await client.post("/organisations")).status_code == 200
    (session,) = sessions
    assert closes == [session]
    assert inspect(held[0]).detached  # let go of, as close() does
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await _stored(engine, "7Z9")


async def test_a_failed_request_is_rolled_back(
    engine: AsyncEngine, closes: list[AsyncSession], seen: Any
) -> None:
    client, sessions, _ = seen
    assert (await client.post("/failing")).status_code == 500
    (session,) = sessions
    assert not session.in_transaction()
    assert session not in closes  # rolled back: no transaction and nothing held
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert not await _stored(engine, "7Z8")


async def test_a_route_that_is_not_a_session_route_cannot_use_the_session(
    engine: AsyncEngine,
) -> None:
    """Its session would never be committed: the request fails instead of losing its writes."""
    router = APIRouter()

    @router.post("/organisations")
    async def add(session: SessionDep) -> None:
        session.add(Organisation(ods_code="7Z7", name="Test body", type="health_board"))

    transport = httpx.ASGITransport(app=_app(engine, router))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="not a SessionRoute"):
            await client.post("/organisations")
    assert not await _stored(engine, "7Z7")


def test_the_session_dependency_has_no_yield() -> None:
    """FastAPI runs a dependency with ``yield`` through context managers and a cancel scope of
    their own on every request; the route sees to the session's end instead."""
    assert not python_inspect.isasyncgenfunction(get_session)
    assert not python_inspect.isgeneratorfunction(get_session)


def test_every_route_of_the_app_that_uses_the_session_is_a_session_route(app: FastAPI) -> None:
    using = [r for r in api_routes(app.routes) if uses_session(r.dependant)]
    assert len(using) > 50
    assert [r.path for r in using if not isinstance(r, SessionRoute)] == []
