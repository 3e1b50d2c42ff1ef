"""Who the uptake projection is told changed: the staff and awards writes announce it on the
message bus, and each publish notes its people in one outbox row (``uptake_pending``). A write
that cannot move anyone in the figures notes nobody. Read over the API, then the outbox."""

from typing import Any

import httpx
from sqlalchemy import select

from app.models import UptakePending
from tests.conftest import CatchUp, auth
from tests.staff.factories import batch_record
from tests.uptake.factories import (
    add_bronze_course,
    put_person,
    send_bronze_completion,
    staff_id,
)


async def _pending(app: Any) -> list[list[int]]:
    """The people of each outbox row, in the order noted."""
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(select(UptakePending.staff_ids).order_by(UptakePending.id))
        return [list(ids) for ids in rows]


async def _ids(app: Any, *numbers: str) -> list[int]:
    async with app.state.sessionmaker() as session:
        return [await staff_id(session, number) for number in numbers]


async def test_a_change_of_job_title_alone_notes_nobody(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    await put_person(lagging_client, admin, "P1")
    await caught_up()

    await put_person(lagging_client, admin, "P1", jobTitle="Ward Sister")

    assert await _pending(app) == []


async def test_a_move_to_another_organisation_notes_the_person(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    await put_person(lagging_client, admin, "P1")
    await caught_up()

    await put_person(lagging_client, admin, "P1", organisation="7A6")

    assert await _pending(app) == [await _ids(app, "P1")]


async def test_an_end_date_cleared_notes_the_person(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    """No feed event says it (staffUpdated leaves the end date aside), yet it counts."""
    await put_person(lagging_client, admin, "P1", endDate="2025-03-31")
    await caught_up()

    await put_person(lagging_client, admin, "P1")

    assert await _pending(app) == [await _ids(app, "P1")]


async def test_a_batch_notes_its_new_people_and_a_snapshot_its_leavers_in_one_row_each(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    records = [batch_record(number) for number in ("B1", "B2", "B3")]
    created = await lagging_client.post(
        "/staffBatches",
        json={"mode": "upsert", "organisation": "7A4", "records": records},
        headers=auth(admin),
    )
    assert created.status_code == 200, created.text
    noted_on_creation = await _pending(app)
    await caught_up()

    snapshot = await lagging_client.post(
        "/staffBatches",
        json={
            "mode": "fullSnapshot",
            "organisation": "7A4",
            "records": records[:1],
            "allowMassLeavers": True,
        },
        headers=auth(admin),
    )

    assert snapshot.status_code == 200 and snapshot.json()["endDated"] == 2, snapshot.text
    assert noted_on_creation == [await _ids(app, "B1", "B2", "B3")]
    assert await _pending(app) == [await _ids(app, "B2", "B3")]


async def test_a_legacy_award_and_its_revocation_note_the_holder(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    await put_person(lagging_client, admin, "P1")
    await caught_up()
    granted = await lagging_client.post(
        "/awards",
        json={
            "employeeNumber": "P1",
            "level": "bronze",
            "grantedAt": "2019-06-30T00:00:00Z",
            "reference": "IQT Bronze register 2019, row 1182",
        },
        headers=auth(admin),
    )
    assert granted.status_code == 201, granted.text
    noted_on_grant = await _pending(app)
    await caught_up()

    revoked = await lagging_client.post(
        f"/awards/{granted.json()['id']}/revocation",
        json={"reason": "Recorded against the wrong person."},
        headers=auth(admin),
    )

    assert revoked.status_code == 200, revoked.text
    assert noted_on_grant == await _pending(app) == [await _ids(app, "P1")]


async def test_a_completion_that_earns_bronze_notes_the_holder(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], caught_up: CatchUp
) -> None:
    await add_bronze_course(lagging_client, admin)
    await put_person(lagging_client, admin, "P1")
    await caught_up()

    recorded = await send_bronze_completion(lagging_client, admin, "P1")
    awards = await lagging_client.get("/staff/P1/awards", headers=auth(admin))

    assert recorded.status_code == 201, recorded.text
    assert [a["level"] for a in awards.json()["data"]] == ["bronze"]
    assert await _pending(app) == [await _ids(app, "P1")]
