"""Leased jobs: a table of jobs that any number of runners work on side by side, one runner on a
job at a time.

A runner holds the oldest active job by its lease with one conditional ``UPDATE`` (taken over
only once the lease expired), and the row stays locked until the runner's transaction commits.
The award re-evaluation jobs (app/awards/jobs.py) and the retention sweeps
(app/personal_data/jobs.py) are such tables: each has ``id``, ``status``, ``lease_owner``,
``lease_expires_at`` and ``started_at``.
"""

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
