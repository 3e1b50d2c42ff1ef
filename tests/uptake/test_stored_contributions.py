"""What the summary stores for each person is rewritten only where it changed: a row whose
counts change, a row that goes and a row that comes, for many people in one refresh (one
statement for each on PostgreSQL), and what is stored stays what the facts give."""

from datetime import date, timedelta

import httpx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.models.award import Award
from app.uptake.contributions import person_deltas
from app.uptake.repository import CellFilter, totals_as_of
from app.uptake.summary import _stored_deltas, load_facts, refresh_uptake
from tests.uptake.factories import at_noon, put_person, recount, staff_id

GROUPS = ("Nursing and Midwifery Registered", "Medical and Dental")


def _start(index: int) -> date:
    return date(2020, 1, 1 + index % 28)


async def _stored_is_what_the_facts_give(session: AsyncSession, ids: list[int]) -> dict:
    stored = await _stored_deltas(session, ids)
    facts = await load_facts(session, ids)
    assert stored == {i: person_deltas(facts[i]) for i in ids}
    return stored


async def test_a_refresh_of_many_rewrites_only_the_rows_that_changed(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    numbers = [f"R{i:04d}" for i in range(30)]
    for i, number in enumerate(numbers):
        await put_person(
            client, admin, number, startDate=_start(i).isoformat(), staffGroup=GROUPS[i % 2]
        )
    ids = [await staff_id(session, n) for n in numbers]
    # Bronze for everyone: the odd ones on their start date (their one stored row keeps its
    # key and changes its counts), the even ones later (a row is added).
    awards = [
        Award(
            staff_id=person_id,
            level="bronze",
            granted_at=at_noon(_start(i) if i % 2 else _start(i) + timedelta(days=40)),
            evidence={"completionIds": [], "projectIds": [], "legacyReference": "test"},
            status="active",
        )
        for i, person_id in enumerate(ids)
    ]
    session.add_all(awards)
    await session.flush()
    await refresh_uptake(session, ids)
    await session.commit()
    stored = await _stored_is_what_the_facts_give(session, ids)
    assert [len(stored[person_id]) for person_id in ids] == [2, 1] * 15

    # Every third award goes: an added row is deleted, a changed one changes back.
    gone = [award.id for award in awards[::3]]
    await session.execute(delete(Award).where(Award.id.in_(gone)))
    await refresh_uptake(session, ids)
    await session.commit()
    stored = await _stored_is_what_the_facts_give(session, ids)
    assert all(len(stored[person_id]) == 1 for person_id in ids[::3])

    for day in (date(2020, 1, 10), date(2020, 2, 20), today()):
        summary = await totals_as_of(session, day, CellFilter())
        assert {k: v for k, v in summary.items() if any(v)} == await recount(session, day)
