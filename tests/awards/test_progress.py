"""GET /staff/{employeeNumber}/progress: the level and every criterion explained, audited."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditRecord
from tests.awards.evidence import (
    add_approved_project,
    add_completion,
    add_course,
    add_staff,
    at,
    evaluate,
)
from tests.conftest import ClientFactory, auth


async def test_progress_explains_every_criterion_and_what_gold_still_needs(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002")
    course = await add_course(session)
    completion = await add_completion(session, admin, "100001", course, on=1)
    project = await add_approved_project(session, [("100001", "lead")], on=5)
    mentored = await add_approved_project(session, [("100002", "lead"), ("100001", "mentor")], on=8)
    await evaluate(session, "100001")
    response = await client.get("/staff/100001/progress", headers=auth(admin))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["employeeNumber"], body["organisation"], body["rulesVersion"]) == (
        "100001",
        "7A4",
        1,
    )
    assert (body["level"], body["nextLevel"]) == ("silver", "gold")
    bronze, silver, gold = body["levels"]
    assert bronze["reached"] and bronze["heldAwardId"] is not None
    assert bronze["reachedAt"] == at(1).isoformat().replace("+00:00", "Z")
    assert bronze["criteria"][0]["completionIds"] == [completion]
    assert [c["name"] for c in silver["criteria"]] == ["levelBelow", "projects"]
    assert silver["criteria"][1]["projectIds"] == [project]
    assert bronze["heldAwardId"] in silver["criteria"][0]["awardIds"]
    assert not gold["reached"] and gold["heldAwardId"] is None
    criterion = gold["criteria"][1]
    assert (criterion["name"], criterion["met"], criterion["counted"]) == (
        "mentoredProjects",
        False,
        1,
    )
    assert criterion["projectIds"] == [mentored]
    assert criterion["missing"] == "1 more mentored project"


async def test_someone_with_no_evidence_is_told_what_bronze_needs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = (await client.get("/staff/200001/progress", headers=auth(admin))).json()
    assert (body["level"], body["nextLevel"]) == (None, "bronze")
    assert body["levels"][0]["criteria"][0]["missing"] == (
        "1 more passed course that counts towards Bronze"
    )
    assert body["levels"][1]["criteria"][0]["missing"] == "Bronze first"


async def test_progress_is_hidden_outside_a_clients_organisations_and_needs_awards_read(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    limited = await make_client(["awards:read"], organisations=["7A4"])
    assert (await client.get("/staff/200001/progress", headers=auth(limited))).status_code == 404
    assert (await client.get("/staff/100001/progress", headers=auth(limited))).status_code == 200
    assert (await client.get("/staff/999999/progress", headers=auth(admin))).status_code == 404
    other = await make_client(["staff:read"])
    assert (await client.get("/staff/100001/progress", headers=auth(other))).status_code == 403


async def test_reading_progress_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await client.get("/staff/100001/progress", headers=auth(admin))
    record = await session.scalar(
        select(AuditRecord).where(AuditRecord.resource_type == "staffProgress")
    )
    assert record is not None
    assert (record.action, record.resource_id, record.organisation_ods_code) == (
        "read",
        "100001",
        "7A4",
    )
    assert record.client_id == admin["client_id"]
