"""HeldConnection: the group commit's writer keeps one connection from one group to the next,
commits on it, and starts again on a fresh one after any failure."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import HeldConnection, group_sessions
from app.models import Organisation
from tests.conftest import is_postgresql


async def _connection_of(session: AsyncSession) -> int:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return id(raw.dbapi_connection)


async def test_uses_share_one_connection_and_each_commits(app: Any) -> None:
    held = HeldConnection(app.state.sessionmaker)
    try:
        async with held() as session:
            first = await _connection_of(session)
            session.add(Organisation(ods_code="ZZ1", name="Held one", type="trust"))
            await session.commit()
        async with held() as session:
            assert await _connection_of(session) == first
            session.add(Organisation(ods_code="ZZ2", name="Held two", type="trust"))
            await session.commit()
    finally:
        await held.close()

    async with app.state.sessionmaker() as reader:
        stored = await reader.scalars(
            select(Organisation.ods_code).where(Organisation.ods_code.in_(["ZZ1", "ZZ2"]))
        )
        assert sorted(stored) == ["ZZ1", "ZZ2"]


async def test_a_failed_use_writes_nothing_and_gives_its_connection_back(app: Any) -> None:
    pool = app.state.engine.sync_engine.pool
    before = pool.checkedout()  # the app's own writer may hold one
    held = HeldConnection(app.state.sessionmaker)
    try:
        with pytest.raises(RuntimeError):
            async with held() as session:
                session.add(Organisation(ods_code="ZZ3", name="Never", type="trust"))
                await session.flush()
                assert pool.checkedout() == before + 1
                raise RuntimeError("deadlock detected")
        assert pool.checkedout() == before  # the next use checks one out afresh (and pings it)
        async with held() as session:
            stored = await session.scalar(
                select(Organisation.id).where(Organisation.ods_code == "ZZ3")
            )
            assert stored is None
        assert pool.checkedout() == before + 1  # held between uses
    finally:
        await held.close()
    assert pool.checkedout() == before


async def test_the_writer_holds_a_connection_on_postgresql_only(app: Any) -> None:
    sessions = group_sessions(app.state.sessionmaker)
    assert isinstance(sessions, HeldConnection) == is_postgresql()
