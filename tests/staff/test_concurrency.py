"""Two HR sends of one new person at the same moment (PostgreSQL, real concurrent requests):
the database keeps one staff row and one open history period, and one staffCreated event."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.models import Event, StaffHistory, StaffMember
from tests.conftest import ClientFactory, auth
from tests.staff.factories import batch_record, person, seed_organisations

pytestmark = pytest.mark.postgresql

CONCURRENT_CHANGE = "https://iqt.nhs.wales/problems/concurrent-change"


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    return creds


async def _stored(app: Any, number: str) -> tuple[int, int, int]:
    """Staff rows, open history periods and staffCreated events of this person."""
    async with app.state.sessionmaker() as session:
        rows = await session.scalar(
            select(func.count()).where(StaffMember.employee_number == number)
        )
        open_periods = await session.scalar(
            select(func.count())
            .select_from(StaffHistory)
            .join(StaffMember, StaffMember.id == StaffHistory.staff_id)
            .where(StaffMember.employee_number == number, StaffHistory.valid_to.is_(None))
        )
        created = await session.scalar(
            select(func.count()).where(Event.type == "staffCreated", Event.resource_id == number)
        )
    return int(rows or 0), int(open_periods or 0), int(created or 0)


def _refused_for_a_retry(response: httpx.Response) -> bool:
    return (
        response.status_code == 409
        and response.json()["type"] == CONCURRENT_CHANGE
        and int(response.headers["Retry-After"]) > 0
    )


@pytest.mark.parametrize("run", range(3))
async def test_concurrent_batches_creating_one_person_store_them_once(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], run: int
) -> None:
    number = f"77000{run}"
    body = {"mode": "upsert", "organisation": "7A4", "records": [batch_record(number)]}
    responses = await asyncio.gather(
        *(client.post("/staffBatches", json=body, headers=auth(admin)) for _ in range(2))
    )
    created = [r for r in responses if r.status_code == 200 and r.json()["created"] == 1]
    others = [r for r in responses if r not in created]
    assert len(created) == 1, [r.text for r in responses]
    (other,) = others
    assert _refused_for_a_retry(other) or (
        other.status_code == 200 and other.json()["created"] == 0
    ), other.text
    assert await _stored(app, number) == (1, 1, 1)
    if other.status_code == 409:  # sent again, it converges
        again = await client.post("/staffBatches", json=body, headers=auth(admin))
        assert again.status_code == 200 and again.json()["unchanged"] == 1, again.text
        assert await _stored(app, number) == (1, 1, 1)


async def test_concurrent_puts_creating_one_person_store_them_once(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str]
) -> None:
    responses = await asyncio.gather(
        *(client.put("/staff/771000", json=person("771000"), headers=auth(admin)) for _ in range(2))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 201], [201, 409]), [r.text for r in responses]
    assert all(r.status_code != 409 or _refused_for_a_retry(r) for r in responses)
    assert await _stored(app, "771000") == (1, 1, 1)
