"""Retention: pseudonymising leavers whose retention period has passed, as a leased,
resumable job in chunks of people by id (the shape of app/awards/jobs.py, held by the lease
of app/core/leases.py). Each API process runs ``run_forever`` in the background (unless
IQT_RUN_RETENTION_SWEEPS=false), and ``iqt personal-data pseudonymise`` runs a sweep at once.

``queue_sweep`` queues a job for the leavers who ended on or before a day (one active job at a
time). Any number of runners call ``run_step`` side by side: a step holds the job by its lease
with one conditional ``UPDATE`` (taken over only once the lease expired), then in the same
transaction locks and pseudonymises the next chunk of due people after ``last_staff_id`` and
advances it. The job row stays locked until the chunk commits, so a chunk is wholly done and
recorded or not at all: a runner that dies leaves its lease to expire, and the next one resumes
after the last committed chunk. Pseudonymising a person twice is impossible anyway
(``staff_pseudonymisations`` has one row per person).
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import leases
from app.core.clock import today, utcnow
from app.core.leases import ACTIVE, hold, new_owner
from app.core.logging import get_logger
from app.models import RetentionJob, StaffMember, StaffPseudonymisation
from app.personal_data.pseudonymisation import Origin, pseudonymise

__all__ = ["new_owner"]  # the lease holders' names (app/core/leases.py), for the CLI

CHUNK = 200
LEASE = timedelta(seconds=60)
# How often an idle API process looks for leavers who have become due (a sweep is daily work).
IDLE_SECONDS = 300.0

logger = get_logger("iqt.personal_data.jobs")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Step:
    job_id: int
    pseudonymised: int
    finished: bool


@dataclass(frozen=True)
class Due:
    """Who a sweep would pseudonymise: counts by organisation (no names)."""

    ended_on_or_before: date
    by_organisation: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_organisation.values())


def retention_cutoff(today: date, years: int) -> date:
    """The latest end date whose retention period of ``years`` has passed by ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _due(cutoff: date, after: int) -> Any:
    pseudonymised = select(StaffPseudonymisation.staff_id).where(
        StaffPseudonymisation.staff_id == StaffMember.id
    )
    return (
        StaffMember.end_date.is_not(None),
        StaffMember.end_date <= cutoff,
        StaffMember.id > after,
        ~pseudonymised.exists(),
    )


async def due_for_pseudonymisation(session: AsyncSession, cutoff: date) -> Due:
    rows = await session.execute(
        select(StaffMember.organisation_ods_code, func.count())
        .where(*_due(cutoff, 0))
        .group_by(StaffMember.organisation_ods_code)
        .order_by(StaffMember.organisation_ods_code)
    )
    return Due(cutoff, {organisation: int(count) for organisation, count in rows})


async def queue_sweep(session: AsyncSession, cutoff: date) -> RetentionJob:
    """The active sweep, or a new one for leavers who ended on or before ``cutoff``."""
    active = await session.scalar(
        select(RetentionJob).where(RetentionJob.status.in_(ACTIVE)).order_by(RetentionJob.id)
    )
    if active is not None:
        return active
    job = RetentionJob(ended_on_or_before=cutoff, status="pending", done=0, pseudonymised=0)
    session.add(job)
    await session.flush()
    return job


async def run_step(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    clock: Clock = utcnow,
    chunk: int = CHUNK,
) -> Step | None:
    """Pseudonymises the next chunk of the oldest active sweep in one transaction; None when
    no sweep is waiting (or another runner holds it)."""
    async with sessionmaker() as session:
        now = clock()
        held = await hold(session, RetentionJob, owner, now, LEASE)
        if held is None:
            await session.rollback()
            return None
        people = list(
            await session.scalars(
                select(StaffMember)
                .where(*_due(held.ended_on_or_before, held.last_staff_id or 0))
                .order_by(StaffMember.id)
                .limit(chunk)
                .with_for_update()
            )
        )
        pseudonymised = 0
        origin = Origin("retention", None, retention_job_id=held.id)
        for member in people:
            pseudonymised += await pseudonymise(session, member, origin)
        if people:
            held.last_staff_id = people[-1].id
            held.done += len(people)
            held.pseudonymised += pseudonymised
        else:
            held.status, held.finished_at = "done", now
            held.lease_owner, held.lease_expires_at = None, None
        held.error = None
        step = Step(held.id, pseudonymised, not people)
        await session.commit()
        return step


async def run_pending_sweeps(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    clock: Clock = utcnow,
    chunk: int = CHUNK,
) -> list[Step]:
    """Runs steps until no sweep is waiting (the CLI; tests)."""
    steps = []
    while (step := await run_step(sessionmaker, owner, clock=clock, chunk=chunk)) is not None:
        steps.append(step)
    return steps


async def _anyone_due(session: AsyncSession, cutoff: date) -> bool:
    found = await session.scalar(select(StaffMember.id).where(*_due(cutoff, 0)).limit(1))
    return found is not None


async def sweep_when_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    years: int,
    *,
    clock: Clock = utcnow,
    on: Callable[[], date] = today,
) -> Step | None:
    """The background runner's step: the next chunk of the active sweep; when there is none
    and someone's retention period has passed, queues a sweep for them (as the CLI does) and
    starts it. None when nobody is due (or another runner holds the sweep)."""
    step = await run_step(sessionmaker, owner, clock=clock)
    if step is not None:
        return step
    cutoff = retention_cutoff(on(), years)
    async with sessionmaker() as session:
        if not await _anyone_due(session, cutoff):
            return None
        await queue_sweep(session, cutoff)
        await session.commit()
    return await run_step(sessionmaker, owner, clock=clock)


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: str,
    years: int,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on: Callable[[], date] = today,
) -> None:
    """The background runner of retention sweeps (one per API process, leased as the award
    jobs' runner); ``on`` tells the day retention is counted to (tests move it)."""
    runner = leases.Runner(
        step=lambda: sweep_when_due(sessionmaker, owner, years, on=on),
        sessionmaker=sessionmaker,
        job=RetentionJob,
        owner=owner,
        events="personal_data.retention_sweep",
        logger=logger,
        idle_seconds=IDLE_SECONDS,
    )
    await leases.run_forever(runner, sleep=sleep, clock=clock)


@contextlib.asynccontextmanager
async def background_runner(app: Any) -> AsyncIterator[None]:
    """The API's lifespan: sweeps in this process unless IQT_RUN_BACKGROUND_JOBS=false or
    IQT_RUN_RETENTION_SWEEPS=false."""
    settings = app.state.settings
    if not (settings.run_background_jobs and settings.run_retention_sweeps):
        yield
        return
    years = settings.personal_data_retention_years
    run = run_forever(app.state.sessionmaker, new_owner(), years)
    async with leases.running(run, "retention-sweeps"):
        yield
