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

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.awards import gathering
from app.awards.evaluation import evaluate_people
from app.core.clock import utcnow
from app.core.leases import ACTIVE, hold, new_owner
from app.core.logging import get_logger
from app.models import AwardEvaluationJob, StaffMember

CHUNK = 2000
LEASE = timedelta(seconds=60)
IDLE_SECONDS = 0.25
RETRY_SECONDS = 5.0
__all__ = ["new_owner"]  # the lease holders' names (app/core/leases.py), for the CLI

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


async def _note_failure(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str, error: BaseException
) -> None:
    """Keeps the error on the job the runner holds; the lease runs out and a runner retries."""
    with contextlib.suppress(Exception):
        async with sessionmaker() as session:
            await session.execute(
                update(AwardEvaluationJob)
                .where(
                    AwardEvaluationJob.lease_owner == owner,
                    AwardEvaluationJob.status.in_(ACTIVE),
                )
                .values(error=f"{type(error).__name__}: {error}"[:1000])
            )
            await session.commit()


class _Outage:
    """What the runner says while its steps fail (the database down, say): the first failure
    with its reason and traceback, then one line per retry, and one when a step works again;
    not a traceback at error level every few seconds."""

    def __init__(self, owner: str, clock: Callable[[], float]) -> None:
        self.owner = owner
        self.clock = clock
        self.failures = 0
        self.since = 0.0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        reason = f"{type(error).__name__}: {error}"[:500]
        if self.failures == 1:
            self.since = self.clock()
            logger.error(
                "awards.evaluation_job_failed",
                owner=self.owner,
                reason=reason,
                retry_in_seconds=RETRY_SECONDS,
                exc_info=error,
            )
        else:
            logger.warning(
                "awards.evaluation_job_still_failing",
                owner=self.owner,
                attempt=self.failures,
                reason=reason,
            )

    def worked(self) -> None:
        if self.failures:
            logger.info(
                "awards.evaluation_job_recovered",
                owner=self.owner,
                failed_attempts=self.failures,
                failing_for_seconds=round(self.clock() - self.since, 1),
            )
            self.failures = 0


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """The background runner: works while there is a job, polls when idle."""
    outage = _Outage(owner, clock)
    while True:
        try:
            step = await run_step(sessionmaker, owner)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outage.failed(exc)
            await _note_failure(sessionmaker, owner, exc)
            await sleep(RETRY_SECONDS)
            continue
        outage.worked()
        if step is None:
            await sleep(IDLE_SECONDS)
        elif step.finished:
            logger.info("awards.evaluation_job_done", job=step.job_id, owner=owner)


@contextlib.asynccontextmanager
async def background_runner(app: Any) -> AsyncIterator[None]:
    """The API's lifespan: runs jobs in this process unless IQT_RUN_BACKGROUND_JOBS=false."""
    if not app.state.settings.run_background_jobs:
        yield
        return
    task = asyncio.create_task(run_forever(app.state.sessionmaker, new_owner()))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
