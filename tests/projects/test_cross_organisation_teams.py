"""Teams across organisations (issue 20): a mentor from another health board is common. A
client limited to some organisations names only their staff; an unrestricted client (the
national QI team) registers the cross-organisation team, and the restricted client may then
keep that member when it changes the project."""

import httpx
import pytest

from tests.conftest import ClientFactory, auth
from tests.projects.factories import (
    LEAD,
    MEMBER,
    MENTOR,
    OTHER_ORGANISATION_PERSON,
    create_project,
    project,
    review,
    team,
)

CROSS_TEAM = team((LEAD, "lead"), (OTHER_ORGANISATION_PERSON, "mentor"))


@pytest.fixture
async def cardiff(admin: dict[str, str], make_client: ClientFactory) -> dict[str, str]:
    return await make_client(organisations=["7A4"], name="Cardiff and Vale QI")


async def test_a_restricted_client_cannot_name_another_organisations_person(
    client: httpx.AsyncClient, cardiff: dict[str, str]
) -> None:
    """The issue's example: 201 for a 7A6 team member against 422 for an unknown number made
    the team an existence test for any employee number."""
    answers = []
    for number in (OTHER_ORGANISATION_PERSON, "299999"):
        body = project(team=team((LEAD, "lead"), (number, "mentor")))
        response = await client.post("/improvementProjects", json=body, headers=auth(cardiff))
        answers.append((response.status_code, response.json()["detail"].replace(number, "N")))
    assert answers == [(422, "Unknown staff: N.")] * 2


async def test_the_national_team_registers_a_mentor_from_another_health_board(
    client: httpx.AsyncClient, admin: dict[str, str], cardiff: dict[str, str]
) -> None:
    made = await create_project(client, admin, team=CROSS_TEAM)
    path = f"/improvementProjects/{made['id']}"
    seen = (await client.get(path, headers=auth(cardiff))).json()
    assert seen["team"] == CROSS_TEAM

    kept = await client.patch(
        path,
        json={"team": [*CROSS_TEAM, {"employeeNumber": MEMBER, "role": "member"}]},
        headers={**auth(cardiff), "If-Match": '"1"'},
    )
    assert kept.status_code == 200, kept.text
    assert [m["employeeNumber"] for m in kept.json()["team"]] == [
        LEAD,
        OTHER_ORGANISATION_PERSON,
        MEMBER,
    ]


async def test_a_restricted_client_cannot_swap_in_another_organisations_person(
    client: httpx.AsyncClient, admin: dict[str, str], cardiff: dict[str, str]
) -> None:
    made = await create_project(client, cardiff, team=team((LEAD, "lead"), (MENTOR, "mentor")))
    swapped = await client.patch(
        f"/improvementProjects/{made['id']}",
        json={"team": CROSS_TEAM},
        headers={**auth(cardiff), "If-Match": '"1"'},
    )
    assert swapped.status_code == 422, swapped.text


async def test_a_reviewer_of_another_organisation_is_unknown_to_a_restricted_client(
    client: httpx.AsyncClient, admin: dict[str, str], cardiff: dict[str, str]
) -> None:
    """The issue's example: a 7A6 reviewerEmployeeNumber was accepted and the team granted
    Silver. An unrestricted client may name a reviewer from anywhere."""
    made = await create_project(client, cardiff, team=team((LEAD, "lead"), (MEMBER, "member")))
    path = f"/improvementProjects/{made['id']}"
    submitted = await client.post(f"{path}/submission", headers=auth(cardiff))
    assert submitted.status_code == 200, submitted.text

    refused = await client.post(
        f"{path}/reviews",
        json=review(reviewerEmployeeNumber=OTHER_ORGANISATION_PERSON),
        headers=auth(cardiff),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == f"Unknown reviewer {OTHER_ORGANISATION_PERSON}."
    awards = (await client.get(f"/staff/{MEMBER}/awards", headers=auth(admin))).json()["data"]
    assert [a["level"] for a in awards] == []

    approved = await client.post(
        f"{path}/reviews",
        json=review(reviewerEmployeeNumber=OTHER_ORGANISATION_PERSON),
        headers=auth(admin),
    )
    assert approved.status_code == 201, approved.text
