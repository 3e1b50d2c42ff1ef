"""The uptake summary as a projection: writers note who changed; a worker catches up.

A write that may change people's place in the uptake figures (their staff record, dated
history or awards) announces it on the message bus; the handler (``app/uptake/handlers.py``)
calls ``note_changed(session, staff_ids, placements)`` in the writer's transaction: one row in
the ``uptake_pending`` outbox per call, whatever the number of people, with where the write
placed the people it created. The worker (``app/uptake/projection_jobs.py``) refreshes them
from the facts (those of people just created from their placements, ``placed_facts``) and
deletes the rows, so once nothing is pending the summary equals a recount. Writers never touch
the summary's shared rows, so they no longer queue behind one another on them.

Every answer read from the summary says how fresh it is (``Freshness``): every change
committed before ``up_to`` is counted.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.models import UptakePending
from app.uptake.contributions import Cells, Period, PersonFacts


class NewPlacement(Protocol):
    """Where a write placed a person it created, and from when until when (their dated
    history is this one open period from the start date)."""

    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date | None: ...
    @property
    def organisation(self) -> str: ...
    @property
    def staff_group(self) -> str: ...
    @property
    def board_member(self) -> bool: ...


async def note_changed(
    session: AsyncSession,
    staff_ids: Iterable[int],
    placements: Mapping[int, NewPlacement] | None = None,
) -> None:
    """Notes, in the caller's transaction, that these people's uptake is to be refreshed
    (one insert for any number of them; nothing when there are none). ``placements``: where
    the write placed the people it created, among them (``placed_facts`` turns them into
    those people's facts)."""
    ids = sorted(set(staff_ids))
    if not ids:
        return
    stored = None
    if placements:
        stored = [
            [staff_id, p.start_date.isoformat(), p.end_date and p.end_date.isoformat(),
             p.organisation, p.staff_group, p.board_member]
            for staff_id, p in placements.items()
        ]  # fmt: skip
    await session.execute(
        insert(UptakePending).values(staff_ids=ids, placements=stored, noted_at=utcnow())
    )


def placed_facts(
    rows: Iterable[tuple[list[int], list[list[Any]] | None]],
) -> dict[int, PersonFacts]:
    """The facts of the people these outbox rows (staff ids, placements) placed on creation,
    except anyone a row names without a placement: a later change to them, which the worker
    reads back. The facts may be older than the person's record (a change in a later row):
    the refresh stores what it adds, so that row's refresh puts it right."""
    facts: dict[int, PersonFacts] = {}
    changed: set[int] = set()
    cells = Cells()
    for staff_ids, placements in rows:
        placed = set()
        for staff_id, start, end, organisation, group, board in placements or ():
            start_date = date.fromisoformat(start)
            cell = cells.of(organisation, group, board)
            facts[staff_id] = PersonFacts(
                staff_id, start_date, end and date.fromisoformat(end), cell,
                (Period(start_date, None, cell),), (),
            )  # fmt: skip
            placed.add(staff_id)
        changed.update(staff_id for staff_id in staff_ids if staff_id not in placed)
    for staff_id in changed:
        facts.pop(staff_id, None)
    return facts


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
