"""The projection worker: refreshes the people noted in ``uptake_pending``, in batches.

Any number of processes run ``run_step`` side by side (the API's background task,
``iqt uptake catch-up``): a step holds the one ``uptake_projection`` row by its lease
(app/core/leases.py), then in the same transaction refreshes the people of the oldest pending
rows (``refresh_uptake``, the same code a full rebuild runs; people a write created come with
their facts, ``placed_facts``) and deletes those rows. The projection row stays locked until
the batch commits, so two processes never refresh at once, and a batch is either wholly done
and its rows gone, or not at all: a crash resumes with the rows still pending. Rows are taken
once the oldest is ``debounce`` old (a burst of changes to the same people is refreshed once);
a row committed meanwhile waits for the next step.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import leases
from app.core.bulk import column_in
from app.core.clock import utcnow
from app.core.leases import hold, new_owner
from app.core.logging import get_logger
from app.models import UptakePending, UptakeProjection
from app.uptake.projection import placed_facts
from app.uptake.summary import refresh_uptake

LEASE = timedelta(seconds=60)
BATCH_ROWS = 500  # outbox rows per step: a row names one write's people, up to a whole batch
DEBOUNCE = timedelta(seconds=1)
IDLE_SECONDS = 0.5

logger = get_logger("iqt.uptake.projection")


_ANY_PENDING = select(select(UptakePending.id).exists())  # built once: read per full step


@dataclass(frozen=True)
class Step:
    job_id: int
    rows: int
    people: int
    finished: bool = False  # the projection is never done: leases.Step's shape


async def run_step(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    debounce: timedelta = DEBOUNCE,
    batch_rows: int = BATCH_ROWS,
) -> Step | None:
    """Refreshes the people of the oldest pending rows in one transaction; None when no row
    is due (none pending, the oldest younger than ``debounce``) or another process holds the
    projection. ``clock`` tells the time leases and the debounce go by (tests move it)."""
    async with sessionmaker() as session:
        now = clock()
        due = exists().where(UptakePending.noted_at <= now - debounce)
        if not await session.scalar(select(due)):
            return None  # idle: not even the lease row is written
        held = await hold(session, UptakeProjection, owner, now, LEASE)
        if held is None:
            await session.rollback()
            return None
        rows = (
            await session.execute(
                select(UptakePending.id, UptakePending.staff_ids, UptakePending.placements)
                .order_by(UptakePending.id)
                .limit(batch_rows)
            )
        ).all()
        people = sorted({staff_id for _, ids, _ in rows for staff_id in ids})
        placed = placed_facts((ids, placements) for _, ids, placements in rows)
        await refresh_uptake(session, people, known=placed)
        taken = [row_id for row_id, _, _ in rows]
        await session.execute(
            delete(UptakePending).where(column_in(session, UptakePending.id, taken))
        )
        held.last_pending_id = max(taken, default=held.last_pending_id)
        held.refreshed_at = now
        held.batches += 1
        held.people += len(people)
        held.error = None
        if len(rows) < batch_rows or not await session.scalar(_ANY_PENDING):
            # Caught up: another process (or the next `iqt uptake catch-up`) may take the next
            # step at once.
            held.lease_owner, held.lease_expires_at = None, None
        step = Step(held.id, len(rows), len(people))
        await session.commit()
        return step


async def catch_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> list[Step]:
    """Runs steps, without waiting out the debounce, until nothing is pending (the CLI;
    tests read the figures after it)."""
    owner = owner or new_owner()
    steps = []
    while (
        step := await run_step(sessionmaker, owner, clock=clock, debounce=timedelta(0))
    ) is not None:
        steps.append(step)
    return steps


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """The background runner: refreshes while rows are due, polls when idle."""
    runner = leases.Runner(
        step=lambda: run_step(sessionmaker, owner),
        sessionmaker=sessionmaker,
        job=UptakeProjection,
        owner=owner,
        events="uptake.projection",
        logger=logger,
        idle_seconds=IDLE_SECONDS,
    )
    await leases.run_forever(runner, sleep=sleep, clock=clock)


@contextlib.asynccontextmanager
async def background_runner(app: Any) -> AsyncIterator[None]:
    """The API's lifespan: runs the projection in this process unless
    IQT_RUN_BACKGROUND_JOBS=false."""
    if not app.state.settings.run_background_jobs:
        yield
        return
    run = run_forever(app.state.sessionmaker, new_owner())
    async with leases.running(run, "uptake-projection"):
        yield
