"""The uptake summary as a projection: writers note who changed; a worker catches up.

A write that may change people's place in the uptake figures (their staff record, dated
history or awards) announces it on the message bus; the handler (``app/uptake/handlers.py``)
calls ``note_changed(session, staff_ids)`` in the writer's transaction: one row in the
``uptake_pending`` outbox per call, whatever the number of people. The worker
(``app/uptake/projection_jobs.py``) refreshes them from the facts and deletes the rows, so
once nothing is pending the summary equals a recount. Writers never touch the summary's
shared rows, so they no longer queue behind one another on them.

Every answer read from the summary says how fresh it is (``Freshness``): every change
committed before ``up_to`` is counted.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.models import UptakePending


async def note_changed(session: AsyncSession, staff_ids: Iterable[int]) -> None:
    """Notes, in the caller's transaction, that these people's uptake is to be refreshed
    (one insert for any number of them; nothing when there are none)."""
    ids = sorted(set(staff_ids))
    if ids:
        await session.execute(insert(UptakePending).values(staff_ids=ids, noted_at=utcnow()))


@dataclass(frozen=True)
class Freshness:
    """How current the summary is: every change committed before ``up_to`` is counted."""

    up_to: datetime

    def lag_seconds(self, now: datetime) -> float:
        """How far behind ``now`` the figures are (0 when caught up as they were read)."""
        return max(0.0, round((now - self.up_to).total_seconds(), 3))


_OLDEST_PENDING = select(func.min(UptakePending.noted_at))  # built once: read per refresh


async def read_freshness(session: AsyncSession) -> Freshness:
    """The summary's freshness, read before the figures (so that they are at least as
    fresh): the time of the oldest change still pending, else now."""
    now = utcnow()
    oldest = await session.scalar(_OLDEST_PENDING)
    return Freshness(min(oldest, now) if oldest is not None else now)
