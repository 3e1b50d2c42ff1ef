"""The summary's bucket sums change as the transaction that changed a person commits: in the
same transaction (all or nothing), and never for a transaction that was rolled back."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.models.award import Award
from app.uptake.repository import CellFilter, totals_as_of
from app.uptake.summary import refresh_uptake
from tests.conftest import CatchUp
from tests.uptake.factories import at_noon, put_person, recount, staff_id


def _bronze(person_id: int) -> Award:
    return Award(
        staff_id=person_id,
        level="bronze",
        granted_at=at_noon(today()),
        evidence={"completionIds": [], "projectIds": [], "legacyReference": "test"},
        status="active",
    )


def _by_cell(totals: dict[tuple[str, str, bool], tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    return {org: counts for (org, _, _), counts in totals.items()}


async def test_a_change_reaches_the_buckets_when_its_transaction_commits(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    await put_person(client, admin, "C0001", organisation="7A4", startDate="2020-01-01")
    await caught_up()
    person_id = await staff_id(session, "C0001")
    assert _by_cell(await totals_as_of(session, today(), CellFilter())) == {"7A4": (1, 0, 0, 0)}

    session.add(_bronze(person_id))
    await session.flush()
    await refresh_uptake(session, [person_id])
    # Kept with the transaction until it commits ...
    assert _by_cell(await totals_as_of(session, today(), CellFilter())) == {"7A4": (1, 0, 0, 0)}
    await session.commit()
    # ... and added by the commit itself.
    assert _by_cell(await totals_as_of(session, today(), CellFilter())) == {"7A4": (1, 1, 0, 0)}
    recounted = await recount(session, today())
    assert {org: c for (org, _, _), c in recounted.items()} == {"7A4": (1, 1, 0, 0)}


async def test_a_rolled_back_change_never_reaches_the_buckets(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    await put_person(client, admin, "C0002", organisation="7A6", startDate="2020-01-01")
    person_id = await staff_id(session, "C0002")
    session.add(_bronze(person_id))
    await session.flush()
    await refresh_uptake(session, [person_id])
    await session.rollback()

    # The next transaction of the same session commits something else.
    await put_person(client, admin, "C0003", organisation="7A6", startDate="2020-01-01")
    await session.commit()
    await caught_up()
    assert _by_cell(await totals_as_of(session, today(), CellFilter())) == {"7A6": (2, 0, 0, 0)}
