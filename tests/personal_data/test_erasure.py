"""POST /staff/{employeeNumber}/erasureRequests: erasure on request, by pseudonymisation."""

import json
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import UptakeBucket, UptakePersonDelta
from tests.completions.factories import BRONZE_ACTIVITY
from tests.completions.xapi_examples import V
from tests.conftest import CatchUp, ClientFactory, auth, read_events
from tests.personal_data.conftest import (
    ATTEMPTED_BY_ACCOUNT,
    COMPLETED_BY_MBOX,
    EMAIL_SHA1,
    EXPERIENCED_BY_SHA1,
    IG_SCOPES,
    SOMEONE_ELSE,
    SOMEONE_ELSES,
    THEIR_AGENT,
    Subject,
    texts_holding,
)
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL

IDENTIFYING = [GIVEN_NAME, FAMILY_NAME, WORK_EMAIL]
OVERRIDE = {"legalBasis": "objectionUpheld", "overrideReason": "Objection upheld by the DPO"}


async def uptake_state(
    client: httpx.AsyncClient, engine: AsyncEngine, headers: Any, caught_up: CatchUp
) -> Any:
    """The uptake summary as stored once the projection has caught up, and as answered for a
    few dates and breakdowns (all but how fresh the answer is)."""
    await caught_up()
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
        answers.append({k: v for k, v in response.json().items() if k != "freshness"})
    return deltas, buckets, answers


async def test_erasure_removes_every_identifying_value_and_keeps_uptake(
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: AsyncEngine,
    subject: Subject,
    caught_up: CatchUp,
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    dashboard = auth(await make_client(scopes=["uptake:read"]))
    assert len(await texts_holding(engine, IDENTIFYING)) > 5  # the world names them widely
    before = await uptake_state(client, engine, dashboard, caught_up)

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    assert erased.status_code == 201, erased.text
    assert erased.json()["pseudonymised"] is True
    assert await texts_holding(engine, IDENTIFYING) == []
    assert await uptake_state(client, engine, dashboard, caught_up) == before
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


async def test_erasure_pseudonymises_the_xapi_statements_naming_them(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    assert await texts_holding(engine, [EMAIL_SHA1]) != []

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    assert erased.status_code == 201, erased.text
    assert await texts_holding(engine, [*IDENTIFYING, EMAIL_SHA1]) == []
    lms = {**auth(subject.lms), **V}
    read = {}
    for statement_id in (COMPLETED_BY_MBOX, ATTEMPTED_BY_ACCOUNT, EXPERIENCED_BY_SHA1):
        got = await client.get(
            "/xapi/statements", params={"statementId": statement_id}, headers=lms
        )
        assert got.status_code == 200, got.text
        read[statement_id] = got.json()
    pseudonym = read[COMPLETED_BY_MBOX]["actor"]
    assert pseudonym["account"]["name"].startswith("Person ")
    assert {s["actor"]["account"]["name"] for s in read.values()} == {pseudonym["account"]["name"]}
    assert read[EXPERIENCED_BY_SHA1]["context"]["instructor"] == pseudonym
    # What the statements say stays: verb, object, result, time.
    assert read[COMPLETED_BY_MBOX]["result"]["score"] == {"scaled": 0.9}
    assert (
        read[ATTEMPTED_BY_ACCOUNT]["result"]["response"] == "[name removed] asked for a certificate"
    )
    assert read[ATTEMPTED_BY_ACCOUNT]["timestamp"] == "2026-02-01T10:00:00Z"
    by_old_agent = await client.get(
        "/xapi/statements",
        params={"agent": json.dumps({"mbox": f"mailto:{WORK_EMAIL}"})},
        headers=lms,
    )
    assert by_old_agent.json()["statements"] == []
    by_pseudonym = await client.get(
        "/xapi/statements", params={"agent": json.dumps(pseudonym)}, headers=lms
    )
    assert {s["id"] for s in by_pseudonym.json()["statements"]} == set(read)
    someone_else = await client.get(
        "/xapi/statements", params={"statementId": SOMEONE_ELSES}, headers=lms
    )
    assert someone_else.json()["actor"]["name"] == "Someone Else"
    export = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    assert {s["statementId"] for s in export.json()["xapiStatements"]} == set(read)


async def test_erasure_deletes_the_xapi_documents_about_them_and_keeps_others(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    lms = {**auth(subject.lms), **V}

    async def bookmark(agent: dict[str, str]) -> int:
        params = {"activityId": BRONZE_ACTIVITY, "agent": json.dumps(agent), "stateId": "bookmark"}
        return (await client.get("/xapi/activities/state", params=params, headers=lms)).status_code

    async def preferences() -> int:
        params = {"agent": json.dumps(THEIR_AGENT), "profileId": "preferences"}
        return (await client.get("/xapi/agents/profile", params=params, headers=lms)).status_code

    assert (await bookmark(THEIR_AGENT), await preferences()) == (200, 200)

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    assert erased.status_code == 201, erased.text
    assert (await bookmark(THEIR_AGENT), await preferences()) == (404, 404)
    assert await bookmark(SOMEONE_ELSE) == 200


async def test_erasure_pseudonymises_them_in_statements_naming_theirs_by_statement_ref(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, subject: Subject
) -> None:
    """Someone else's statement naming theirs by StatementRef is found by their agent (its
    keys copied from theirs) until they are erased, then by the pseudonym only."""
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    lms = {**auth(subject.lms), **V}
    naming = {
        "id": "5a1c2c1e-0000-4000-8000-000000000005",
        "actor": {"objectType": "Agent", "mbox": "mailto:someone.else@wales.nhs.uk"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"},
        "object": {"objectType": "StatementRef", "id": COMPLETED_BY_MBOX},
    }
    sent = await client.post("/xapi/statements", json=naming, headers=lms)
    assert sent.status_code == 200, sent.text
    theirs = {"agent": json.dumps({"mbox": f"mailto:{WORK_EMAIL}"})}
    before = await client.get("/xapi/statements", params=theirs, headers=lms)
    assert naming["id"] in {s["id"] for s in before.json()["statements"]}

    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests", json=OVERRIDE, headers=auth(ig)
    )

    assert erased.status_code == 201, erased.text
    assert await texts_holding(engine, [*IDENTIFYING, EMAIL_SHA1]) == []
    after = await client.get("/xapi/statements", params=theirs, headers=lms)
    assert after.json()["statements"] == []
    got = await client.get(
        "/xapi/statements", params={"statementId": COMPLETED_BY_MBOX}, headers=lms
    )
    pseudonym = got.json()["actor"]
    by_pseudonym = await client.get(
        "/xapi/statements", params={"agent": json.dumps(pseudonym)}, headers=lms
    )
    assert naming["id"] in {s["id"] for s in by_pseudonym.json()["statements"]}
