"""Awards tests: staff to hold awards, direct award rows, and rules versions cleaned up.

Rules version 1 is seeded by the migrations, so the harness keeps the award_rules table; the
versions a test posts are removed here after it.
"""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import Award, AwardEvaluationJob, AwardRules, StaffMember
from tests.conftest import ClientFactory, auth, read_events
from tests.staff.factories import person, seed_organisations


@pytest.fixture(autouse=True)
async def _remove_posted_rules(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    async with engine.begin() as connection:
        await connection.execute(delete(AwardEvaluationJob))
        await connection.execute(delete(Award))
        await connection.execute(delete(AwardRules).where(AwardRules.version > 1))


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """A client with every scope, organisations 7A4 and 7A6, and staff 100001 (7A4) and
    200001 (7A6)."""
    creds = await make_client()
    await seed_organisations(client, creds)
    for number, organisation in (("100001", "7A4"), ("200001", "7A6")):
        response = await client.put(
            f"/staff/{number}", json=person(number, organisation=organisation), headers=auth(creds)
        )
        assert response.status_code == 201, response.text
    return creds


async def staff_id(session: AsyncSession, employee_number: str) -> int:
    found = await session.scalar(
        select(StaffMember.id).where(StaffMember.employee_number == employee_number)
    )
    assert found is not None
    return int(found)


async def insert_award(
    session: AsyncSession,
    employee_number: str,
    level: str,
    granted_at: datetime,
    **values: Any,
) -> int:
    """An award row written directly, as evaluation will write them."""
    award = Award(
        staff_id=await staff_id(session, employee_number),
        level=level,
        granted_at=granted_at,
        rules_version=values.pop("rules_version", 1),
        evidence=values.pop(
            "evidence", {"completionIds": [1], "projectIds": [], "legacyReference": None}
        ),
        status=values.pop("status", "active"),
        **values,
    )
    session.add(award)
    await session.commit()
    return award.id


def legacy(number: str = "100001", level: str = "bronze", **overrides: Any) -> dict[str, Any]:
    return {
        "employeeNumber": number,
        "level": level,
        "grantedAt": "2019-06-30T00:00:00Z",
        "reference": "IQT Bronze register 2019, row 1182",
        **overrides,
    }


async def events_of(
    client: httpx.AsyncClient, creds: dict[str, str], types: str, at_least: int = 1
) -> list[dict[str, Any]]:
    """Events of these types; waits (PostgreSQL) until the feed shows at least ``at_least``."""
    body = await read_events(client, auth(creds), at_least=at_least, types=types)
    data: list[dict[str, Any]] = body["data"]
    return data
