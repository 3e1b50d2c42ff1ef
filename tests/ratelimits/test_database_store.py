"""The database store: local counting between folds, one shared row per key, bounded overshoot."""

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.quotas import Quota
from app.models import RateLimitWindow
from app.ratelimits.database_store import DatabaseRateLimitStore
from tests.ratelimits.conftest import Clock

QUOTA = Quota(policy="default", amount=100, window_seconds=60)


async def _stored_hits(engine: AsyncEngine, key: str) -> int | None:
    async with engine.connect() as connection:
        hits: int | None = await connection.scalar(
            select(RateLimitWindow.hits).where(RateLimitWindow.key == key)
        )
        return hits


async def _hit(store: DatabaseRateLimitStore, key: str, clock: Clock, times: int) -> list[bool]:
    allowed = []
    for _ in range(times):
        count = await store.hit(key, QUOTA, clock())
        await store.fold([key], clock())
        allowed.append(count.allowed)
    return allowed


async def test_hits_are_folded_into_the_row_at_most_once_per_flush_interval(
    engine: AsyncEngine,
) -> None:
    clock, store = Clock(), DatabaseRateLimitStore(engine, flush_seconds=0.2)
    await _hit(store, "client:a", clock, 30)
    # The first hit is folded at once; the next 29 wait for the interval to pass.
    assert await _stored_hits(engine, "client:a") == 1
    clock.advance(0.2)
    await _hit(store, "client:a", clock, 1)
    assert await _stored_hits(engine, "client:a") == 31


async def test_one_process_alone_never_overshoots_between_folds(engine: AsyncEngine) -> None:
    clock, store = Clock(), DatabaseRateLimitStore(engine, flush_seconds=60)
    allowed = await _hit(store, "client:b", clock, 120)
    assert allowed.count(True) == QUOTA.amount


async def test_processes_overshoot_by_at_most_what_they_admit_between_folds(
    engine: AsyncEngine,
) -> None:
    clock = Clock()
    clock.now = 6000.0  # the start of a window
    one = DatabaseRateLimitStore(engine, flush_seconds=1)
    other = DatabaseRateLimitStore(engine, flush_seconds=1)
    admitted = 0
    for _ in range(40):  # 4 s of both processes at 100 requests/s each, folding every second
        for store in (one, other):
            for _ in range(10):
                admitted += (await store.hit("client:c", QUOTA, clock())).allowed
            await store.fold(["client:c"], clock())
        clock.advance(0.1)
    # Each process admits at most one flush interval (100 requests) beyond what it knew.
    assert QUOTA.amount <= admitted <= QUOTA.amount + 2 * 100


async def test_a_new_window_starts_from_nothing(engine: AsyncEngine) -> None:
    clock, store = Clock(), DatabaseRateLimitStore(engine, flush_seconds=0)
    assert (await _hit(store, "client:d", clock, 101))[-1] is False
    clock.advance(60)
    assert await _hit(store, "client:d", clock, 1) == [True]
    assert await _stored_hits(engine, "client:d") == 1


async def test_a_failed_fold_keeps_the_hits_for_the_next(engine: AsyncEngine) -> None:
    clock = Clock()
    broken = DatabaseRateLimitStore(engine, flush_seconds=0)
    await broken.hit("client:e", QUOTA, clock())
    broken.engine = None  # type: ignore[assignment]
    await broken.fold(["client:e"], clock())
    broken.engine = engine
    await broken.hit("client:e", QUOTA, clock())
    await broken.fold(["client:e"], clock())
    assert await _stored_hits(engine, "client:e") == 2


@pytest.mark.parametrize("flush_seconds", [0, 5])
async def test_closing_folds_what_is_pending(engine: AsyncEngine, flush_seconds: float) -> None:
    clock, store = Clock(), DatabaseRateLimitStore(engine, flush_seconds=flush_seconds)
    await _hit(store, "client:f", clock, 3)
    await store.close()
    assert await _stored_hits(engine, "client:f") == 3
