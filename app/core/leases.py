"""Leased jobs: a table of jobs that any number of runners work on side by side, one runner on a
job at a time.

A runner holds the oldest active job by its lease with one conditional ``UPDATE`` (taken over
only once the lease expired), and the row stays locked until the runner's transaction commits.
The award re-evaluation jobs (app/awards/jobs.py) and the retention sweeps
(app/personal_data/jobs.py) are such tables: each has ``id``, ``status``, ``lease_owner``,
``lease_expires_at``, ``started_at`` and ``error``. ``run_forever`` is the runner each API
process runs for them in the background.
"""

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.tasks import stop_task

ACTIVE = ("pending", "running")

Job = TypeVar("Job")


def new_owner() -> str:
    """A lease owner name unique to this process and runner."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(job: Any, owner: str, now: datetime) -> Any:
    return (
        job.status.in_(ACTIVE),
        or_(
            job.lease_owner == owner,
            job.lease_expires_at.is_(None),
            job.lease_expires_at < now,
        ),
    )


async def hold(
    session: AsyncSession, job: type[Job], owner: str, now: datetime, lease: timedelta
) -> Job | None:
    """Takes or renews the lease on the oldest active job of the ``job`` table; the row stays
    locked until commit.

    The conditions are checked again after any wait for the row lock, so two runners never
    both hold it."""
    table: Any = job
    oldest = (
        select(table.id)
        .where(*_claimable(table, owner, now))
        .order_by(table.id)
        .limit(1)
        .scalar_subquery()
    )
    job_id = await session.scalar(
        update(table)
        .where(table.id == oldest, *_claimable(table, owner, now))
        .values(
            status="running",
            lease_owner=owner,
            lease_expires_at=now + lease,
            started_at=func.coalesce(table.started_at, now),
        )
        .returning(table.id)
    )
    if job_id is None:
        return None
    return await session.get(job, job_id, populate_existing=True)


# The background runner every API process runs for a table of leased jobs.
RETRY_SECONDS = 5.0


async def note_failure(
    sessionmaker: async_sessionmaker[AsyncSession], job: Any, owner: str, error: BaseException
) -> None:
    """Keeps the error on the job the runner holds; the lease runs out and a runner retries."""
    with contextlib.suppress(Exception):
        async with sessionmaker() as session:
            await session.execute(
                update(job)
                .where(job.lease_owner == owner, job.status.in_(ACTIVE))
                .values(error=f"{type(error).__name__}: {error}"[:1000])
            )
            await session.commit()


class _Outage:
    """What the runner says while its steps fail (the database down, say): the first failure
    with its reason and traceback, then one line per retry, and one when a step works again;
    not a traceback at error level every few seconds."""

    def __init__(self, owner: str, clock: Callable[[], float], events: str, logger: Any) -> None:
        self.owner = owner
        self.clock = clock
        self.events = events
        self.logger = logger
        self.failures = 0
        self.since = 0.0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        reason = f"{type(error).__name__}: {error}"[:500]
        if self.failures == 1:
            self.since = self.clock()
            self.logger.error(
                f"{self.events}_failed",
                owner=self.owner,
                reason=reason,
                retry_in_seconds=RETRY_SECONDS,
                exc_info=error,
            )
        else:
            self.logger.warning(
                f"{self.events}_still_failing",
                owner=self.owner,
                attempt=self.failures,
                reason=reason,
            )

    def worked(self) -> None:
        if self.failures:
            self.logger.info(
                f"{self.events}_recovered",
                owner=self.owner,
                failed_attempts=self.failures,
                failing_for_seconds=round(self.clock() - self.since, 1),
            )
            self.failures = 0


class Step(Protocol):
    @property
    def job_id(self) -> int: ...

    @property
    def finished(self) -> bool: ...


@dataclass(frozen=True)
class Runner:
    """How a background runner works one table of leased jobs: ``step`` does the next chunk
    (None when no job is waiting); its log lines are named ``events`` + ``_failed`` and so on."""

    step: Callable[[], Awaitable[Step | None]]
    sessionmaker: async_sessionmaker[AsyncSession]
    job: Any
    owner: str
    events: str
    logger: Any
    idle_seconds: float


async def run_forever(
    runner: Runner,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Works while there is a job, polls when idle, retries after a failure."""
    outage = _Outage(runner.owner, clock, runner.events, runner.logger)
    while True:
        try:
            step = await runner.step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outage.failed(exc)
            await note_failure(runner.sessionmaker, runner.job, runner.owner, exc)
            await sleep(RETRY_SECONDS)
            continue
        outage.worked()
        if step is None:
            await sleep(runner.idle_seconds)
        elif step.finished:
            runner.logger.info(f"{runner.events}_done", job=step.job_id, owner=runner.owner)


@contextlib.asynccontextmanager
async def running(run: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Runs ``run`` as a task for as long as the context lasts (an API process's lifespan)."""
    task = asyncio.create_task(run, name=name)
    try:
        yield
    finally:
        await stop_task(task)
