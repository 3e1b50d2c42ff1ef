from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.problems import ConcurrentChange
from app.models import StaffHistory
from app.staff import repository
from app.staff.fields import StaffRow
from app.staff.repository import StaffPeriod
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person, seed_organisations


def _row(number: str, job_title: str) -> StaffRow:
    return StaffRow(
        employee_number=number,
        given_name="Siân",
        family_name="Llŷr",
        work_email=None,
        organisation_ods_code="7A4",
        staff_group_code="03",
        job_title=job_title,
        board_member=False,
        start_date=date(2019, 4, 1),
        end_date=None,
    )


async def test_upsert_refuses_a_row_changed_since_it_was_read(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    admin = await make_client()
    await seed_organisations(client, admin)
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    await client.put("/staff/100001", json=person(jobTitle="Matron"), headers=auth(admin))
    with pytest.raises(ConcurrentChange):
        await repository.upsert_staff(session, [_row("100001", "Stale write")], {"100001": 1})
    await session.rollback()
    ids = await repository.upsert_staff(session, [_row("100001", "Fresh write")], {"100001": 2})
    assert list(ids) == ["100001"]


async def test_a_row_to_create_never_overwrites_a_record_created_meanwhile(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    """A create read "no such number" before another request (perhaps another
    organisation's) created it: the create must fail, not take over that record."""
    admin = await make_client()
    await seed_organisations(client, admin)
    await client.put("/staff/100001", json=person(organisation="7A6"), headers=auth(admin))
    created = _row("100001", "Taken over")
    with pytest.raises(ConcurrentChange):  # no version: as apply_staff_rows sends a row it
        await repository.upsert_staff(session, [created], {})  # found no record for
    await session.rollback()
    stored = (await client.get("/staff/100001", headers=auth(admin))).json()
    assert (stored["organisation"], stored["jobTitle"]) == ("7A6", "Staff Nurse")


async def test_the_database_holds_at_most_one_open_history_period_per_person(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    admin = await make_client()
    await seed_organisations(client, admin)
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    staff_id = (await repository.get_by_employee_number(session, "100001")).id  # type: ignore[union-attr]
    second_open = StaffPeriod(staff_id, date(2019, 4, 1), None, _row("100001", "Staff Nurse"))
    with pytest.raises(ConcurrentChange):
        await repository.insert_history(session, [second_open])
    await session.rollback()
    with pytest.raises(IntegrityError):
        await session.execute(
            insert(StaffHistory).values(
                staff_id=staff_id,
                valid_from=date(2019, 4, 1),
                valid_to=None,
                organisation_ods_code="7A4",
                staff_group_code="03",
                board_member=False,
            )
        )
    await session.rollback()
    closed = second_open._replace(valid_to=date(2020, 1, 1))
    await repository.insert_history(session, [closed])  # closed periods are not limited


async def test_a_create_racing_another_create_of_the_person_is_refused_for_a_retry(
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the loser of two concurrent creates sees: it read no such person, and by the time
    it writes, another request has created them. It stores nothing and says to send again."""
    admin = await make_client()
    await seed_organisations(client, admin)
    first = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert first.status_code == 201

    async def read_before_the_other_committed(*args: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(repository, "existing_by_employee_number", read_before_the_other_committed)
    record = {"employeeNumber": "100001", **person(jobTitle="Matron")}
    answers = [
        await client.put("/staff/100001", json=person(jobTitle="Matron"), headers=auth(admin)),
        await client.post(
            "/staffBatches",
            json={"mode": "upsert", "organisation": "7A4", "records": [record]},
            headers=auth(admin),
        ),
    ]
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "https://iqt.nhs.wales/problems/concurrent-change"
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["employeeNumbers"] == ["100001"]
    monkeypatch.undo()
    stored = await client.get("/staff/100001", headers=auth(admin))
    assert stored.json()["jobTitle"] == "Staff Nurse"
    history = await client.get("/staff/100001/history", headers=auth(admin))
    assert len(history.json()["periods"]) == 1
    again = await client.put("/staff/100001", json=person(jobTitle="Matron"), headers=auth(admin))
    assert again.status_code == 200 and again.json()["jobTitle"] == "Matron"


async def test_the_contract_says_which_staff_writes_may_simply_be_sent_again(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, method in (
        ("/staff/{employeeNumber}", "put"),
        ("/staff/{employeeNumber}", "patch"),
        ("/staffBatches", "post"),
    ):
        refusal = document["paths"][path][method]["responses"]["409"]
        assert "sent again" in refusal["description"], (path, method)
        assert "Retry-After" in refusal["headers"], (path, method)
        example = refusal["content"]["application/problem+json"]["example"]
        assert example["type"].endswith("/concurrent-change"), (path, method)
