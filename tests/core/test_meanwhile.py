"""A write sent before a stretch of computing, and waited for after it."""

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.completions.events import CompletionRetracted
from app.core.meanwhile import written_meanwhile
from app.events.service import record_feed_events
from app.models import Event


async def test_the_write_is_under_way_before_the_body_and_done_after_it() -> None:
    log: list[str] = []
    answer = asyncio.Event()

    async def write() -> None:
        log.append("sent")
        await answer.wait()  # the database working
        log.append("stored")

    async with written_meanwhile(write()):
        log.append("computing")
        answer.set()
    log.append("after")
    assert log == ["sent", "computing", "stored", "after"]


async def test_a_failing_body_still_waits_for_the_write_and_raises_its_own_error() -> None:
    log: list[str] = []
    answer = asyncio.Event()

    async def write() -> None:
        await answer.wait()  # the database working
        log.append("stored")

    with pytest.raises(ZeroDivisionError):
        async with written_meanwhile(write()):
            asyncio.get_running_loop().call_soon(answer.set)  # answered after the body failed
            _ = 1 / 0
    assert log == ["stored"]


async def test_a_failing_write_fails_the_block() -> None:
    async def write() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("refused by the database")

    with pytest.raises(RuntimeError, match="refused"):
        async with written_meanwhile(write()):
            pass


async def test_rows_written_meanwhile_are_in_the_transaction(session: AsyncSession) -> None:
    events = [
        CompletionRetracted(i, None, None, "IQT-BRONZE", None, "In error.") for i in range(100)
    ]
    async with written_meanwhile(record_feed_events(session, events, None)):
        total = sum(range(100_000))  # computing, without the session
    assert total > 0
    stored = await session.scalar(select(func.count()).select_from(Event))
    assert stored == 100
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_a_request_cancelled_as_the_write_is_sent_still_waits_for_it() -> None:
    log: list[str] = []
    started, answer = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        await answer.wait()  # the database working
        log.append("stored" if not task.done() else "stored after the request ended")

    async def request() -> None:
        started.set()
        async with written_meanwhile(write()):
            log.append("computing")

    task = asyncio.ensure_future(request())
    await started.wait()  # the request is at its first turn of the event loop
    task.cancel()
    asyncio.get_running_loop().call_soon(answer.set)  # answered once the cancel is under way
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["stored"]
