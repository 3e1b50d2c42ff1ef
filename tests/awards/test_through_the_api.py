"""Awards follow evidence sent through the API: POST /completions grants Bronze in the same
request, DELETE /completions/{id} (retraction) revokes it and cascades."""

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.awards.evidence import active_levels, add_approved_project, awards_of, feed
from tests.conftest import auth

COURSE = {
    "title": "IQT Bronze e-learning",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}


async def test_a_posted_completion_grants_bronze_and_its_retraction_revokes_with_cascade(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    course = await client.put("/courses/IQT-BRONZE", json=COURSE, headers=auth(admin))
    assert course.status_code in (200, 201), course.text
    await add_approved_project(session, [("100001", "lead")])
    posted = await client.post(
        "/completions",
        json={
            "employeeNumber": "100001",
            "courseCode": "IQT-BRONZE",
            "completedAt": "2026-11-20T14:03:00Z",
            "passed": True,
            "externalId": "moodle-cc-1",
        },
        headers=auth(admin),
    )
    assert posted.status_code == 201, posted.text
    assert active_levels(await awards_of(session, "100001")) == ["bronze", "silver"]
    retracted = await client.request(
        "DELETE",
        f"/completions/{posted.json()['id']}",
        params={"reason": "Recorded in error."},
        headers=auth(admin),
    )
    assert retracted.status_code == 200, retracted.text
    awards = await awards_of(session, "100001")
    assert [(a["level"], a["cause"]) for a in awards] == [
        ("bronze", "evidenceRetracted"),
        ("silver", "levelBelowRevoked"),
    ]
    assert len(await feed(client, admin, "awardRevoked", 2)) == 2


@pytest.mark.postgresql
async def test_fifty_concurrent_qualifying_completions_grant_exactly_one_bronze(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    course = await client.put("/courses/IQT-BRONZE", json=COURSE, headers=auth(admin))
    assert course.status_code in (200, 201), course.text

    def completion(index: int) -> dict[str, object]:
        return {
            "employeeNumber": "100001",
            "courseCode": "IQT-BRONZE",
            "completedAt": f"2026-11-20T14:{index:02d}:00Z",
            "passed": True,
            "externalId": f"moodle-burst-{index}",
        }

    responses = await asyncio.gather(
        *(client.post("/completions", json=completion(i), headers=auth(admin)) for i in range(50))
    )
    assert sorted({r.status_code for r in responses}) == [201], [r.text for r in responses[:3]]
    awards = await awards_of(session, "100001")
    assert active_levels(awards) == ["bronze"]
    assert len(awards) == 1
    granted = await feed(client, admin, "awardGranted")
    assert len(granted) == 1
