"""Legacy import and revocation reach the uptake summary once the projection has caught up."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import UptakePersonDelta
from tests.awards.conftest import legacy, staff_id
from tests.awards.evidence import (
    active_levels,
    add_approved_project,
    add_completion,
    add_course,
    awards_of,
    evaluate,
)
from tests.conftest import CatchUp, auth


async def bronze_held(session: AsyncSession, employee_number: str, caught_up: CatchUp) -> int:
    await caught_up()
    held = await session.scalar(
        select(func.coalesce(func.sum(UptakePersonDelta.bronze), 0)).where(
            UptakePersonDelta.staff_id == await staff_id(session, employee_number)
        )
    )
    await session.rollback()
    return int(held or 0)


async def test_a_legacy_award_counts_in_uptake_and_its_revocation_uncounts_it(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    assert await bronze_held(session, "100001", caught_up) == 0
    created = await client.post("/awards", json=legacy(), headers=auth(admin))
    assert created.status_code == 201, created.text
    assert await bronze_held(session, "100001", caught_up) == 1
    revoked = await client.post(
        f"/awards/{created.json()['id']}/revocation",
        json={"reason": "Recorded against the wrong person."},
        headers=auth(admin),
    )
    assert revoked.status_code == 200, revoked.text
    assert await bronze_held(session, "100001", caught_up) == 0


async def test_a_legacy_bronze_with_an_approved_project_goes_on_to_silver(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_approved_project(session, [("100001", "lead")])
    response = await client.post("/awards", json=legacy(), headers=auth(admin))
    assert response.status_code == 201, response.text
    awards = await awards_of(session, "100001")
    assert active_levels(awards) == ["bronze", "silver"]
    assert [a["rulesVersion"] for a in awards] == [None, 1]


async def test_a_completion_does_not_grant_bronze_again_beside_a_legacy_bronze(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await client.post("/awards", json=legacy(), headers=auth(admin))
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    await evaluate(session, "100001")
    assert active_levels(await awards_of(session, "100001")) == ["bronze"]
