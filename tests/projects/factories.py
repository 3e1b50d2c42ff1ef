"""Small builders for project tests: organisations, staff, and projects in each state."""

from typing import Any

import httpx

from tests.conftest import auth
from tests.staff.factories import person, seed_organisations

LEAD, MEMBER, MENTOR, SPONSOR, REVIEWER = "100001", "100002", "100003", "100004", "300001"
OTHER_ORGANISATION_PERSON = "200001"


async def seed_people(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Organisations 7A4 and 7A6, a team's worth of 7A4 staff, a reviewer, and one 7A6 person."""
    await seed_organisations(client, admin)
    for number in (LEAD, MEMBER, MENTOR, SPONSOR, REVIEWER):
        response = await client.put(f"/staff/{number}", json=person(number), headers=auth(admin))
        assert response.status_code == 201, response.text
    response = await client.put(
        f"/staff/{OTHER_ORGANISATION_PERSON}",
        json=person(OTHER_ORGANISATION_PERSON, organisation="7A6"),
        headers=auth(admin),
    )
    assert response.status_code == 201, response.text


def team(*members: tuple[str, str]) -> list[dict[str, str]]:
    return [{"employeeNumber": number, "role": role} for number, role in members]


FULL_TEAM = team((LEAD, "lead"), (MEMBER, "member"), (MENTOR, "mentor"), (SPONSOR, "sponsor"))


def project(**overrides: Any) -> dict[str, Any]:
    """A project complete enough to submit."""
    body: dict[str, Any] = {
        "title": "Fewer missed insulin doses on ward C4",
        "organisation": "7A4",
        "area": "Diabetes care",
        "problem": "One in eight insulin doses was late or missed.",
        "aim": "Fewer than 1 in 20 late or missed doses within 6 months.",
        "measures": [{"name": "Doses late or missed", "kind": "outcome"}],
        "changes": [
            {
                "title": "Insulin prompt on the handover sheet",
                "plan": "Add a prompt.",
                "do": "Two weeks of day shifts.",
                "study": "Late doses fell from 12% to 7%.",
                "act": "Adopt.",
                "startedOn": "2026-03-02",
                "endedOn": "2026-03-16",
            }
        ],
        "outcome": "improved",
        "learning": "Prompts at handover beat training alone.",
        "sustainabilityAndSpread": "Part of the standard handover sheet now.",
        "team": FULL_TEAM,
        "links": [{"title": "Run chart", "url": "https://example.nhs.wales/c4"}],
    }
    body.update(overrides)
    return body


def scores(**overrides: int) -> dict[str, int]:
    """Scores totalling 34 out of 50 unless overridden."""
    values = {
        "principles": 4,
        "aim": 7,
        "measures": 6,
        "changes": 8,
        "sustainabilityAndSpread": 5,
        "reflection": 4,
    }
    values.update(overrides)
    return values


def review(decision: str = "approved", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reviewerEmployeeNumber": REVIEWER,
        "scores": scores(),
        "decision": decision,
        "comments": "A genuine attempt, honestly reflected on.",
    }
    body.update(overrides)
    return body


async def create_project(
    client: httpx.AsyncClient, creds: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/improvementProjects", json=project(**overrides), headers=auth(creds)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submitted_project(
    client: httpx.AsyncClient, creds: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    created = await create_project(client, creds, **overrides)
    response = await client.post(
        f"/improvementProjects/{created['id']}/submission", headers=auth(creds)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def project_in_state(
    client: httpx.AsyncClient, creds: dict[str, str], state: str
) -> dict[str, Any]:
    """A project brought to this state through the API."""
    if state == "draft":
        return await create_project(client, creds)
    submitted = await submitted_project(client, creds)
    path = f"/improvementProjects/{submitted['id']}"
    if state == "submitted":
        return submitted
    if state == "withdrawn":
        response = await client.post(f"{path}/withdrawal", headers=auth(creds))
    else:
        decision = {"approved": "approved", "returned": "returned"}[state]
        response = await client.post(f"{path}/reviews", json=review(decision), headers=auth(creds))
        assert response.status_code == 201, response.text
        response = await client.get(path, headers=auth(creds))
    assert response.status_code == 200, response.text
    return dict(response.json())
