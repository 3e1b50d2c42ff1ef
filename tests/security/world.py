"""One organisation's data, written through the API by an unrestricted client: the objects
that another organisation's client must neither see nor change."""

from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Award, Base, Completion, StaffMember
from app.models.project import ProjectReview, ProjectTeamMember
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


# The other organisation's people, as a client restricted to 7A4 might name them: VICTIM has
# always been in 7A6; MOVER was in 7A4 (the attacker recorded a completion for them) and has
# since moved to 7A6. NOBODY is a number and e-mail no one has: what the service must answer
# for VICTIM is what it answers for NOBODY.
VICTIM, VICTIM_EMAIL = "200002", "myfanwy.ap-rhodri@wales.nhs.uk"
VICTIM_NAME = ("Myfanwy", "Ap-Rhodri")
MOVER, MOVER_EMAIL = "200003", "taliesin.ap-einion@wales.nhs.uk"
MOVER_NAME = ("Taliesin", "Ap-Einion")
NOBODY, NOBODY_EMAIL = "299999", "nobody.at.all@wales.nhs.uk"
OTHER_MEETING_ID = "7A6-2026-11-05"
OTHER_SECRETS = (VICTIM, VICTIM_EMAIL, *VICTIM_NAME, MOVER, MOVER_EMAIL, *MOVER_NAME)


@dataclass(frozen=True)
class Elsewhere:
    """7A6's records that a client restricted to 7A4 (``attacker``, every scope) must not
    reach, and the 7A4 objects it attacks them through."""

    attacker: dict[str, str]
    victim_staff_id: int
    victim_completion_id: str  # recorded by an unrestricted client; matched to VICTIM
    victim_award_id: str
    mover_completion_id: str  # recorded by the attacker before MOVER moved to 7A6
    draft_project_id: str  # the attacker's, in 7A4
    draft_project_etag: str


async def build_elsewhere(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine, world: World
) -> Elsewhere:
    """On top of ``build_world``: VICTIM in 7A6 holding Bronze, a 7A6 board meeting, MOVER
    moved from 7A4 to 7A6 after the attacker recorded their completion, and the attacker's
    draft project in 7A4."""
    headers = auth(world.admin)
    attacker = await make_client(organisations=["7A4"], name="Cardiff and Vale platform")
    for number, email, (given, family), organisation in (
        (VICTIM, VICTIM_EMAIL, VICTIM_NAME, "7A6"),
        (MOVER, MOVER_EMAIL, MOVER_NAME, "7A4"),
    ):
        body = person(
            number,
            givenName=given,
            familyName=family,
            workEmail=email,
            organisation=organisation,
            boardMember=True,
        )
        response = await client.put(f"/staff/{number}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    recorded = await client.post(
        "/completions", json=completion("victim-1", number=VICTIM), headers=headers
    )
    assert recorded.json()["matchStatus"] == "matched", recorded.text
    moving = await client.post(
        "/completions", json=completion("mover-1", number=MOVER), headers=auth(attacker)
    )
    assert moving.json()["matchStatus"] == "matched", moving.text
    moved = await client.patch(f"/staff/{MOVER}", json={"organisation": "7A6"}, headers=headers)
    assert moved.status_code == 200, moved.text
    meeting = await client.put(
        f"/boardMeetings/{OTHER_MEETING_ID}",
        json={"organisation": "7A6", "meetingDate": "2026-11-05", "qiDiscussed": True},
        headers=headers,
    )
    assert meeting.status_code == 201, meeting.text
    draft = await client.post(
        "/improvementProjects", json=project(team=team((LEAD, "lead"))), headers=auth(attacker)
    )
    assert draft.status_code == 201, draft.text
    awards = (await client.get(f"/staff/{VICTIM}/awards", headers=headers)).json()["data"]
    async with engine.connect() as connection:
        victim_staff_id = await connection.scalar(
            select(StaffMember.id).where(StaffMember.employee_number == VICTIM)
        )
    return Elsewhere(
        attacker=attacker,
        victim_staff_id=int(victim_staff_id),
        victim_completion_id=str(recorded.json()["id"]),
        victim_award_id=str(awards[0]["id"]),
        mover_completion_id=str(moving.json()["id"]),
        draft_project_id=str(draft.json()["id"]),
        draft_project_etag=draft.headers["ETag"],
    )


async def touching_victim(engine: AsyncEngine, victim_staff_id: int) -> dict[str, list[str]]:
    """Every row that names VICTIM: what an attack from another organisation must not change."""
    tables = {
        "staff_members": (StaffMember.__table__, StaffMember.id),
        "completions": (Completion.__table__, Completion.staff_id),
        "awards": (Award.__table__, Award.staff_id),
        "project_team_members": (ProjectTeamMember.__table__, ProjectTeamMember.staff_id),
        "project_reviews": (ProjectReview.__table__, ProjectReview.reviewer_staff_id),
    }
    rows: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for name, (table, column) in tables.items():
            result = await connection.execute(select(table).where(column == victim_staff_id))
            rows[name] = sorted(repr(tuple(row)) for row in result)
    return rows
