"""The short-lived cache: one computation for concurrent askers, expiry, failures not kept."""

import asyncio

import pytest

from app.core.short_cache import ShortCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_askers_share_one_computation_until_it_expires() -> None:
    clock, calls, answer = Clock(), [], asyncio.Event()

    async def compute() -> int:
        calls.append(1)
        await answer.wait()  # the query at work while the others ask
        return len(calls)

    cache = ShortCache(2, timer=clock)
    askers = [asyncio.create_task(cache.get("k", compute)) for _ in range(20)]
    await asyncio.sleep(0)  # every asker has asked
    answer.set()
    assert await asyncio.gather(*askers) == [1] * 20
    clock.now = 1.9
    assert await cache.get("k", compute) == 1
    clock.now = 2.1
    assert await cache.get("k", compute) == 2
    assert await cache.get("other", compute) == 3


async def test_failures_are_not_kept() -> None:
    attempts = []

    async def compute() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first time")
        return "ok"

    cache = ShortCache(60)
    with pytest.raises(ValueError):
        await cache.get("k", compute)
    assert await cache.get("k", compute) == "ok"


async def test_zero_seconds_computes_every_time() -> None:
    calls = []

    async def compute() -> int:
        calls.append(1)
        return len(calls)

    cache = ShortCache(0)
    assert [await cache.get("k", compute) for _ in range(3)] == [1, 2, 3]
