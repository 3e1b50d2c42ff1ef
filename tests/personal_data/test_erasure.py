"""POST /staff/{employeeNumber}/erasureRequests: erasure on request, by pseudonymisation."""

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import UptakeBucket, UptakePersonDelta
from tests.conftest import ClientFactory, auth, read_events
from tests.personal_data.conftest import IG_SCOPES, Subject, texts_holding
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL

IDENTIFYING = [GIVEN_NAME, FAMILY_NAME, WORK_EMAIL]
OVERRIDE = {"legalBasis": "objectionUpheld", "overrideReason": "Objection upheld by the DPO"}


async def uptake_state(client: httpx.AsyncClient, engine: AsyncEngine, headers: Any) -> Any:
    """The uptake summary as stored, and as answered for a few dates and breakdowns."""
    async with engine.connect() as connection:
        deltas = sorted(map(tuple, await connection.execute(select(UptakePersonDelta))))
        buckets = sorted(map(tuple, await connection.execute(select(UptakeBucket))))
    answers = []
    for params in (
        {},
        {"asOf": "2026-06-30"},
        {"organisation": "7A4"},
        {"staffGroup": "Nursing and Midwifery Registered"},
    ):
        response = await client.get("/uptake", params=params, headers=headers)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return deltas, buckets, answers


async def test_erasure_removes_every_identifying_value_and_keeps_uptake(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    dashboard = auth(await make_client(scopes=["uptake:read"]))
    assert len(await texts_holding(engine, IDENTIFYING)) > 5  # the world names them widely
    before = await uptake_state(client, engine, dashboard)

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    assert erased.status_code == 201, erased.text
    assert erased.json()["pseudonymised"] is True
    assert await texts_holding(engine, IDENTIFYING) == []
    assert await uptake_state(client, engine, dashboard) == before
    export = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    assert export.json()["pseudonymisation"][0]["cause"] == "erasure"
    assert export.json()["staff"][0]["organisationOdsCode"] == "7A4"
    assert export.json()["awards"]


async def test_a_current_employee_is_not_erased_without_a_reason(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")

    refused = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests",
        json={"legalBasis": "noLongerNecessary"},
        headers=auth(ig),
    )

    assert refused.status_code == 409, refused.text
    assert "current employee" in refused.json()["detail"]
    assert refused.json()["invalidParams"][0]["name"] == "overrideReason"
    assert len(await texts_holding(engine, [WORK_EMAIL])) > 0


async def test_a_leaver_is_erased_without_an_override(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    left = await client.patch(
        f"/staff/{subject.employee_number}",
        json={"endDate": "2026-06-30"},
        headers=auth(subject.world.admin),
    )
    assert left.status_code == 200, left.text

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests",
        json={"legalBasis": "unlawfulProcessing", "note": f"Asked by {GIVEN_NAME} in writing"},
        headers=auth(ig),
    )

    assert erased.status_code == 201, erased.text
    assert erased.json()["currentEmployee"] is False
    assert await texts_holding(engine, IDENTIFYING) == []


async def test_erasure_is_audited_and_announced(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=[*IG_SCOPES, "audit:read", "events:read"], name="IG")

    await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    audit = await client.get(
        "/auditRecords", params={"clientId": ig["client_id"]}, headers=auth(ig)
    )
    assert {(r["action"], r["resourceType"]) for r in audit.json()["data"]} == {
        ("erase", "personalData"),
        ("pseudonymise", "staff"),
    }
    events = await read_events(
        client, auth(ig), at_least=2, types="erasureRequested,staffPseudonymised"
    )
    assert [(e["type"], e["resourceId"]) for e in events["data"]] == [
        ("erasureRequested", subject.employee_number),
        ("staffPseudonymised", subject.employee_number),
    ]


async def test_erasure_needs_its_own_scope_and_the_organisation(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    reader = await make_client(scopes=["personalData:read", "staff:write"])
    elsewhere = await make_client(scopes=IG_SCOPES, organisations=["7A6"])

    unscoped = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(reader)
    )
    hidden = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(elsewhere)
    )

    assert unscoped.status_code == 403
    assert hidden.status_code == 404
    assert len(await texts_holding(engine, [WORK_EMAIL])) > 0
