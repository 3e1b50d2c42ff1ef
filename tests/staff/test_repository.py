from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.problems import Conflict
from app.staff import repository
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person, seed_organisations


def _row(number: str, job_title: str, version: int) -> dict[str, object]:
    return {
        "employee_number": number,
        "given_name": "Siân",
        "family_name": "Llŷr",
        "work_email": None,
        "work_email_key": None,
        "organisation_ods_code": "7A4",
        "staff_group_code": "03",
        "job_title": job_title,
        "board_member": False,
        "start_date": date(2019, 4, 1),
        "end_date": None,
        "version": version,
    }


async def test_upsert_refuses_a_row_changed_since_it_was_read(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    admin = await make_client()
    await seed_organisations(client, admin)
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    await client.put("/staff/100001", json=person(jobTitle="Matron"), headers=auth(admin))
    with pytest.raises(Conflict):
        await repository.upsert_staff(session, [_row("100001", "Stale write", version=1)])
    await session.rollback()
    ids = await repository.upsert_staff(session, [_row("100001", "Fresh write", version=2)])
    assert list(ids) == ["100001"]


async def test_a_row_to_create_never_overwrites_a_record_created_meanwhile(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    """A create read "no such number" before another request (perhaps another
    organisation's) created it: the create must fail, not take over that record."""
    admin = await make_client()
    await seed_organisations(client, admin)
    await client.put("/staff/100001", json=person(organisation="7A6"), headers=auth(admin))
    created = _row("100001", "Taken over", version=1)
    del created["version"]  # as apply_staff_rows sends a row it found no record for
    with pytest.raises(Conflict):
        await repository.upsert_staff(session, [created])
    await session.rollback()
    stored = (await client.get("/staff/100001", headers=auth(admin))).json()
    assert (stored["organisation"], stored["jobTitle"]) == ("7A6", "Staff Nurse")
