"""The request's session (``get_session``): closed when it holds anything, and a session the
request never used is dropped without the close ``async with`` would run in a task of its own."""

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.database import create_sessionmaker, get_session
from app.models import Organisation


def _request(engine: AsyncEngine) -> Any:
    state = SimpleNamespace(sessionmaker=create_sessionmaker(engine), noted_writers=())
    return SimpleNamespace(app=SimpleNamespace(state=state), state=SimpleNamespace())


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[AsyncSession]:
    closed: list[AsyncSession] = []
    real_close = AsyncSession.close

    async def counting_close(self: AsyncSession) -> None:
        closed.append(self)
        await real_close(self)

    monkeypatch.setattr(AsyncSession, "close", counting_close)
    return closed


async def _through(engine: AsyncEngine, use: Any) -> AsyncSession:
    dependency = get_session(_request(engine))
    session = await anext(dependency)
    await use(session)
    with pytest.raises(StopAsyncIteration):
        await anext(dependency)
    return session


async def test_an_unused_session_is_not_closed(
    engine: AsyncEngine, closes: list[AsyncSession]
) -> None:
    async def nothing(_: AsyncSession) -> None:
        pass

    await _through(engine, nothing)
    assert closes == []
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_committed_statement_leaves_nothing_to_close(
    engine: AsyncEngine, closes: list[AsyncSession]
) -> None:
    async def read(session: AsyncSession) -> None:
        assert (await session.execute(text("SELECT 1"))).scalar() == 1
        assert session.in_transaction()

    session = await _through(engine, read)  # committed: the connection is back in the pool
    assert not session.in_transaction()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert closes == []


async def test_a_session_holding_objects_is_closed(
    engine: AsyncEngine, closes: list[AsyncSession]
) -> None:
    held = Organisation(ods_code="7A9", name="Test body", type="health_board")

    async def write(session: AsyncSession) -> None:
        session.add(held)

    session = await _through(engine, write)
    assert closes == [session]
    assert inspect(held).detached  # let go of, as close() does
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_failed_request_is_rolled_back(
    engine: AsyncEngine, closes: list[AsyncSession]
) -> None:
    dependency = get_session(_request(engine))
    session = await anext(dependency)
    await session.execute(text("SELECT 1"))
    with pytest.raises(RuntimeError):
        await dependency.athrow(RuntimeError("the endpoint failed"))
    assert not session.in_transaction()
    assert session not in closes  # rolled back: no transaction and nothing held
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
