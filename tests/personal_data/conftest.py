"""A person the service holds data about in every way it can, named in free text too."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import String, Text, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import ApiClient, Base
from tests.completions.factories import BRONZE_ACTIVITY
from tests.completions.xapi_examples import HOME_PAGE, V, send
from tests.conftest import ClientFactory, auth
from tests.projects.factories import LEAD, REVIEWER, project, review, team
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL, World, build_world
from tests.staff.factories import batch_record

IG_SCOPES = ["personalData:read", "personalData:erase"]
EMAIL_SHA1 = hashlib.sha1(f"mailto:{WORK_EMAIL}".encode()).hexdigest()  # noqa: S324
# Statements naming them: a completion by their e-mail, an attempt by their employee number
# as an account, one by their e-mail's SHA-1 with them as instructor too; and someone else's.
COMPLETED_BY_MBOX = "5a1c2c1e-0000-4000-8000-000000000001"
ATTEMPTED_BY_ACCOUNT = "5a1c2c1e-0000-4000-8000-000000000002"
EXPERIENCED_BY_SHA1 = "5a1c2c1e-0000-4000-8000-000000000003"
SOMEONE_ELSES = "5a1c2c1e-0000-4000-8000-000000000004"
# xAPI documents the platform keeps about them as an agent (a State and an Agent Profile), and
# a State of someone else's.
THEIR_AGENT = {"mbox": f"mailto:{WORK_EMAIL}"}
SOMEONE_ELSE = {"mbox": "mailto:someone.else@wales.nhs.uk"}
DOCUMENT_OF_THEIRS = {"page": 7, "note": f"{GIVEN_NAME} paused here"}


@dataclass(frozen=True)
class Subject:
    world: World
    employee_number: str
    approved_project_id: str
    lms: dict[str, str]


def _statement(statement_id: str, actor: dict[str, Any], verb: str, **more: Any) -> dict[str, Any]:
    return {
        "id": statement_id,
        "timestamp": "2026-02-01T10:00:00Z",
        "actor": {"objectType": "Agent", **actor},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-GB": verb}},
        "object": {"id": BRONZE_ACTIVITY},
        **more,
    }


async def send_statements(app: Any, client: httpx.AsyncClient, make_client: ClientFactory) -> Any:
    """An e-learning platform (account homePage configured) sends statements naming them."""
    lms = await make_client(name="LMS")
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == lms["client_id"])
            .values(xapi_account_home_page=HOME_PAGE)
        )
        await session.commit()
    named = f"{GIVEN_NAME} {FAMILY_NAME}"
    statements = [
        _statement(
            COMPLETED_BY_MBOX,
            {"name": named, "mbox": f"mailto:{WORK_EMAIL}"},
            "completed",
            result={"success": True, "completion": True, "score": {"scaled": 0.9}},
        ),
        _statement(
            ATTEMPTED_BY_ACCOUNT,
            {"name": named, "account": {"homePage": HOME_PAGE, "name": LEAD}},
            "attempted",
            result={"response": f"{GIVEN_NAME} asked for a certificate"},
        ),
        _statement(
            EXPERIENCED_BY_SHA1,
            {"mbox_sha1sum": EMAIL_SHA1},
            "experienced",
            context={"instructor": {"name": named, "mbox": f"mailto:{WORK_EMAIL}"}},
        ),
        _statement(
            SOMEONE_ELSES,
            {"name": "Someone Else", "mbox": "mailto:someone.else@wales.nhs.uk"},
            "attempted",
        ),
    ]
    sent = await send(client, lms, statements)
    assert sent.status_code == 200, sent.text
    for agent, document in ((THEIR_AGENT, DOCUMENT_OF_THEIRS), (SOMEONE_ELSE, {"page": 1})):
        params = {"activityId": BRONZE_ACTIVITY, "agent": json.dumps(agent), "stateId": "bookmark"}
        kept = await client.put(
            "/xapi/activities/state", params=params, json=document, headers={**auth(lms), **V}
        )
        assert kept.status_code == 204, kept.text
    profile = {"agent": json.dumps(THEIR_AGENT), "profileId": "preferences"}
    kept = await client.put(
        "/xapi/agents/profile",
        params=profile,
        json={"language": "cy"},
        headers={**auth(lms), **V, "If-None-Match": "*"},
    )
    assert kept.status_code == 204, kept.text
    return lms


async def build_subject(app: Any, client: httpx.AsyncClient, make_client: ClientFactory) -> Subject:
    """LEAD of the security world (a completion, Bronze, a submitted project, an open staff
    snapshot naming them) with more: an approved project whose text and review name them,
    a project review they gave, a name correction, a retracted completion whose reason
    names them, an Open Badges credential of an award, and xAPI statements naming them
    (send_statements)."""
    world = await build_world(client, make_client)
    headers = auth(world.admin)
    named = f"{GIVEN_NAME} {FAMILY_NAME}"
    made = await client.post(
        "/improvementProjects",
        json=project(
            title=f"Handover prompts ({named})",
            learning=f"{GIVEN_NAME} found prompts beat training; ask {WORK_EMAIL}.",
            team=team((LEAD, "lead")),
        ),
        headers=headers,
    )
    assert made.status_code == 201, made.text
    project_id = made.json()["id"]
    submitted = await client.post(f"/improvementProjects/{project_id}/submission", headers=headers)
    assert submitted.status_code == 200, submitted.text
    reviewed = await client.post(
        f"/improvementProjects/{project_id}/reviews",
        json=review(comments=f"{FAMILY_NAME} reflected honestly."),
        headers=headers,
    )
    assert reviewed.status_code == 201, reviewed.text
    # A review they gave, of someone else's project.
    other = await client.post(
        "/improvementProjects",
        json=project(title="Falls huddles", team=team((REVIEWER, "lead"))),
        headers=headers,
    )
    assert other.status_code == 201, other.text
    other_id = other.json()["id"]
    await client.post(f"/improvementProjects/{other_id}/submission", headers=headers)
    given = await client.post(
        f"/improvementProjects/{other_id}/reviews",
        json=review(reviewerEmployeeNumber=LEAD, decision="returned"),
        headers=headers,
    )
    assert given.status_code == 201, given.text
    for family_name, reason in (("Ferch-Gruffud", None), (FAMILY_NAME, f"Spelling of {named}")):
        headers_sent = headers if reason is None else {**headers, "Correction-Reason": reason}
        corrected = await client.patch(
            f"/staff/{LEAD}", json={"familyName": family_name}, headers=headers_sent
        )
        assert corrected.status_code == 200, corrected.text
    extra = await client.post(
        "/completions",
        json={
            "externalId": "retract-me",
            "courseCode": "IQT-BRONZE",
            "workEmail": WORK_EMAIL,
            "completedAt": "2026-01-10T10:00:00Z",
            "passed": True,
        },
        headers=headers,
    )
    assert extra.status_code == 201, extra.text
    retracted = await client.delete(
        f"/completions/{extra.json()['id']}",
        params={"reason": f"Sent twice for {named}"},
        headers=headers,
    )
    assert retracted.status_code in (200, 204), retracted.text
    named_in_snapshot = batch_record(
        LEAD, givenName=GIVEN_NAME, familyName=FAMILY_NAME, workEmail=WORK_EMAIL, boardMember=True
    )
    snapshot = await client.post(
        "/staffBatches",
        json={
            "mode": "fullSnapshot",
            "organisation": "7A4",
            "snapshot": int(world.snapshot_id),
            "records": [named_in_snapshot],
        },
        headers=headers,
    )
    assert snapshot.status_code in (200, 201), snapshot.text
    read = await client.get(f"/staff/{LEAD}", headers=headers)
    assert read.status_code == 200
    awards = await client.get(f"/staff/{LEAD}/awards", headers=headers)
    active = [a for a in awards.json()["data"] if a["status"] == "active"]
    issued = await client.get(f"/awards/{active[0]['id']}/credential", headers=headers)
    assert issued.status_code == 200, issued.text
    lms = await send_statements(app, client, make_client)
    return Subject(world, LEAD, str(project_id), lms)


@pytest.fixture
async def subject(app: Any, client: httpx.AsyncClient, make_client: ClientFactory) -> Subject:
    return await build_subject(app, client, make_client)


async def texts_holding(engine: AsyncEngine, needles: list[str]) -> list[tuple[str, str]]:
    """(table, column) of every text or JSON value anywhere in the database that contains one
    of ``needles`` (case-insensitively)."""
    found: list[tuple[str, str]] = []
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text) and "JSON" not in repr(column.type):
                    continue
                as_text = func.lower(cast(column, Text))
                hits = await connection.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(or_(*(as_text.contains(n.lower(), autoescape=True) for n in needles)))
                )
                if hits:
                    found.append((table.name, column.name))
    return found


def rows_of(body: dict[str, Any], section: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = body[section]
    return rows
