"""Retention: pseudonymising leavers whose retention period has passed, as a leased,
resumable job in chunks of people by id (the shape of app/awards/jobs.py, held by the lease
of app/core/leases.py).

``queue_sweep`` queues a job for the leavers who ended on or before a day (one active job at a
time). Any number of runners call ``run_step`` side by side: a step holds the job by its lease
with one conditional ``UPDATE`` (taken over only once the lease expired), then in the same
transaction locks and pseudonymises the next chunk of due people after ``last_staff_id`` and
advances it. The job row stays locked until the chunk commits, so a chunk is wholly done and
recorded or not at all: a runner that dies leaves its lease to expire, and the next one resumes
after the last committed chunk. Pseudonymising a person twice is impossible anyway
(``staff_pseudonymisations`` has one row per person).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import utcnow
from app.core.leases import ACTIVE, hold, new_owner
from app.models import RetentionJob, StaffMember, StaffPseudonymisation
from app.personal_data.pseudonymisation import Origin, pseudonymise

__all__ = ["new_owner"]  # the lease holders' names (app/core/leases.py), for the CLI

CHUNK = 200
LEASE = timedelta(seconds=60)

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
