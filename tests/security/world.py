"""One organisation's data, written through the API by an unrestricted client: the objects
that another organisation's client must neither see nor change."""

from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Base
from tests.completions.conftest import BRONZE_COURSE
from tests.completions.factories import BRONZE, completion
from tests.conftest import ClientFactory, auth
from tests.projects.factories import LEAD, REVIEWER, project, team
from tests.staff.factories import person, seed_organisations

# Distinctive enough that finding one in an answer can only mean it leaked.
GIVEN_NAME, FAMILY_NAME = "Gwenllian", "Ferch-Gruffydd"
WORK_EMAIL = "gwenllian.ferch-gruffydd@wales.nhs.uk"
PROJECT_TITLE = "Secret ward C9 insulin prompts"
MEETING_ID = "7A4-2026-11-05"
AGENDA = "Item 7: private IQT report"
SECRETS = (GIVEN_NAME, FAMILY_NAME, WORK_EMAIL, PROJECT_TITLE, AGENDA)

# Rows that a refused request may still write: who asked (audit), how often (rate limits), and
# the clients themselves.
NOT_COMPARED = {"audit_records", "rate_limit_windows", "api_clients"}


@dataclass(frozen=True)
class World:
    admin: dict[str, str]
    completion_id: str
    project_id: str
    project_etag: str
    award_id: str
    snapshot_id: str


async def build_world(client: httpx.AsyncClient, make_client: ClientFactory) -> World:
    """In 7A4: a person holding Bronze from a completion, a submitted project they lead, a
    board meeting, an open staff snapshot. 7A6 exists and has one person of its own."""
    admin = await make_client(name="admin")
    headers = auth(admin)
    await seed_organisations(client, admin)
    created = await client.put(f"/courses/{BRONZE}", json=BRONZE_COURSE, headers=headers)
    assert created.status_code == 201, created.text
    owner = person(
        LEAD, givenName=GIVEN_NAME, familyName=FAMILY_NAME, workEmail=WORK_EMAIL, boardMember=True
    )
    for number, body in (
        (LEAD, owner),
        (REVIEWER, person(REVIEWER)),
        ("200001", person("200001", organisation="7A6")),
    ):
        response = await client.put(f"/staff/{number}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    recorded = await client.post("/completions", json=completion(number=LEAD), headers=headers)
    assert recorded.status_code == 201, recorded.text
    made = await client.post(
        "/improvementProjects",
        json=project(title=PROJECT_TITLE, team=team((LEAD, "lead"))),
        headers=headers,
    )
    assert made.status_code == 201, made.text
    project_id = made.json()["id"]
    submitted = await client.post(f"/improvementProjects/{project_id}/submission", headers=headers)
    assert submitted.status_code == 200, submitted.text
    meeting = await client.put(
        f"/boardMeetings/{MEETING_ID}",
        json={
            "organisation": "7A4",
            "meetingDate": "2026-11-05",
            "qiDiscussed": True,
            "agendaReference": AGENDA,
        },
        headers=headers,
    )
    assert meeting.status_code == 201, meeting.text
    snapshot = await client.post("/staffSnapshots", json={"organisation": "7A4"}, headers=headers)
    assert snapshot.status_code == 201, snapshot.text
    awards = (await client.get(f"/staff/{LEAD}/awards", headers=headers)).json()
    [bronze] = [a for a in awards["data"] if a["level"] == "bronze"]
    return World(
        admin=admin,
        completion_id=str(recorded.json()["id"]),
        project_id=str(project_id),
        project_etag=submitted.headers["ETag"],
        award_id=str(bronze["id"]),
        snapshot_id=str(snapshot.json()["id"]),
    )


async def stored_rows(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every row of every table that a refused request must leave alone."""
    rows: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_COMPARED:
                continue
            result = await connection.execute(select(table))
            rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


def leaked(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]
