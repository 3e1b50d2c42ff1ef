"""Re-evaluating everyone after a rules change: a resumable job in chunks of people by id.

``POST /awardRules`` queues a job (``award_evaluation_jobs``). Any number of processes run
``run_step`` side by side (the API's background task, ``iqt awards reevaluate``): a step holds
the job by its lease with one conditional ``UPDATE`` (taken over only once the lease expired),
then in the same transaction locks and evaluates the next chunk of people after
``last_staff_id`` and advances ``last_staff_id`` and ``done``. The job row stays locked until
the chunk commits, so a chunk is either wholly done and recorded or not at all: a crash or a
restart resumes after the last committed chunk and never grants twice (and the partial unique
index would refuse a second active award anyway).
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.awards import gathering
from app.awards.evaluation import evaluate_people
from app.core import leases
from app.core.clock import utcnow
from app.core.leases import RETRY_SECONDS, hold, new_owner
from app.core.logging import get_logger
from app.models import AwardEvaluationJob, StaffMember

CHUNK = 2000
LEASE = timedelta(seconds=60)
IDLE_SECONDS = 0.25
# The runner's retry pause and the lease holders' names come from app/core/leases.py.
__all__ = ["RETRY_SECONDS", "new_owner"]

logger = get_logger("iqt.awards.jobs")


@dataclass(frozen=True)
class Step:
    job_id: int
    rules_version: int
    evaluated: int
    granted: int
    finished: bool


async def run_step(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    chunk: int = CHUNK,
    clock: Callable[[], datetime] = utcnow,
) -> Step | None:
    """Evaluates the next chunk of the oldest active job in one transaction; None when no
    job is waiting (or another process holds it). ``clock`` tells the time leases are
    taken and expire by (tests move it)."""
    async with sessionmaker() as session:
        now = clock()
        held = await hold(session, AwardEvaluationJob, owner, now, LEASE)
        if held is None:
            await session.rollback()
            return None
        if held.done == 0 and held.last_staff_id is None:
            held.total = int(await session.scalar(select(func.count(StaffMember.id))) or 0)
        ids = await gathering.ids_after(session, held.last_staff_id or 0, chunk)
        granted = 0
        if ids:
            # Only those the new rules could grant something are locked and evaluated.
            people = await gathering.lock_people(session, await gathering.may_gain(session, ids))
            outcome = await evaluate_people(session, people, None, rules_version=held.rules_version)
            granted = outcome.granted
            held.last_staff_id = ids[-1]
            held.done += len(ids)
            held.granted += granted
        else:
            held.status, held.finished_at = "done", now
            held.total = held.done
            held.lease_owner, held.lease_expires_at = None, None
        held.error = None
        step = Step(held.id, held.rules_version, len(ids), granted, not ids)
        await session.commit()
        return step


async def run_pending_jobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    chunk: int = CHUNK,
    clock: Callable[[], datetime] = utcnow,
) -> list[Step]:
    """Runs steps until no job is waiting (the CLI; tests)."""
    steps = []
    while (step := await run_step(sessionmaker, owner, chunk=chunk, clock=clock)) is not None:
        steps.append(step)
    return steps


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """The background runner: works while there is a job, polls when idle."""
    runner = leases.Runner(
        step=lambda: run_step(sessionmaker, owner),
        sessionmaker=sessionmaker,
        job=AwardEvaluationJob,
        owner=owner,
        events="awards.evaluation_job",
        logger=logger,
        idle_seconds=IDLE_SECONDS,
    )
    await leases.run_forever(runner, sleep=sleep, clock=clock)


@contextlib.asynccontextmanager
async def background_runner(app: Any) -> AsyncIterator[None]:
    """The API's lifespan: runs jobs in this process unless IQT_RUN_BACKGROUND_JOBS=false."""
    if not app.state.settings.run_background_jobs:
        yield
        return
    run = run_forever(app.state.sessionmaker, new_owner())
    async with leases.running(run, "award-evaluation-jobs"):
        yield
