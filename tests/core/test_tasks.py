"""Background tasks stop when their process shuts down, even when a cancel is missed.

On Python 3.11 ``asyncio.wait_for`` returns the result instead of raising CancelledError when
what it awaits finishes in the same loop iteration as the cancel (CPython gh-86296). A loop
built on it then runs on after one ``cancel()``, and a shutdown that awaits it never ends: a
test run hung in the lifespan shutdown of an app this way, with its revocation listener still
sending ``SELECT 1`` every five seconds.
"""

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from app.auth.active_clients import ActiveClients
from app.core.leases import running
from app.core.tasks import stop_task

# Bounds a test that would otherwise hang: only a missed cancel meets it.
HANG = 30.0


async def ends(stopping: Coroutine[Any, Any, None]) -> bool:
    """Whether ``stopping`` ends within HANG. Not ``asyncio.timeout``: the code under test may
    swallow the CancelledError that the timeout throws at it, and so hide the hang."""
    stopper = asyncio.create_task(stopping)
    await asyncio.wait({stopper}, timeout=HANG)
    if stopper.done():
        return True
    stopper.cancel()
    return False


class Ticker:
    """A loop of ``wait_for`` whose awaited future the test completes at the very moment it
    cancels the task: the race that swallows the cancel on 3.11."""

    def __init__(self) -> None:
        self.current: asyncio.Future[None] | None = None
        self.waiting = asyncio.Event()
        self.laps = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.current = loop.create_future()
            self.waiting.set()
            await asyncio.wait_for(self.current, 60)
            self.laps += 1

    async def cancel_as_it_finishes(self, task: "asyncio.Task[None]") -> None:
        await self.waiting.wait()
        assert self.current is not None
        self.current.set_result(None)
        task.cancel()


async def test_a_cancel_that_wait_for_swallows_still_stops_the_task() -> None:
    ticker = Ticker()
    task = asyncio.create_task(ticker.run())
    await ticker.cancel_as_it_finishes(task)
    assert await ends(stop_task(task))
    assert task.done()


async def test_a_background_runner_stops_at_shutdown_though_a_cancel_was_missed() -> None:
    ticker = Ticker()

    async def serve_then_shut_down() -> None:
        async with running(ticker.run(), "ticker"):
            await ticker.waiting.wait()
            assert ticker.current is not None
            ticker.current.set_result(None)  # the runner's awaited thing ends as shutdown starts

    assert await ends(serve_then_shut_down())


@pytest.fixture
async def swallowing_listener(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Ticker]:
    ticker = Ticker()

    async def listen(self: ActiveClients, dsn: str) -> None:
        await ticker.run()

    monkeypatch.setattr(ActiveClients, "_listen", listen)
    yield ticker


async def test_the_revocation_listener_stops_though_a_cancel_was_missed(
    swallowing_listener: Ticker,
) -> None:
    clients = ActiveClients()
    clients.start("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    await swallowing_listener.waiting.wait()
    assert swallowing_listener.current is not None
    swallowing_listener.current.set_result(None)
    assert await ends(clients.stop())
