"""Submission, review on the Silver rubric, withdrawal, events, and the award hook."""

from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import evaluation
from app.core.settings import Settings
from app.main import create_app
from app.models import StaffMember
from app.models.project import ImprovementProject
from tests.conftest import ClientFactory, auth, read_events
from tests.projects.factories import (
    LEAD,
    MEMBER,
    MENTOR,
    REVIEWER,
    SPONSOR,
    create_project,
    review,
    scores,
    submitted_project,
)

PROJECT_EVENTS = (
    "projectCreated,projectSubmitted,projectReviewed,projectApproved,projectReturned,"
    "projectWithdrawn"
)


async def test_submission_lists_every_missing_field_at_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_project(
        client, admin, aim=None, changes=[], outcome=None, learning="  ", team=[]
    )
    response = await client.post(
        f"/improvementProjects/{created['id']}/submission", headers=auth(admin)
    )
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalidParams"]] == [
        "team",
        "aim",
        "changes",
        "outcome",
        "learning",
    ]
    after = await client.get(f"/improvementProjects/{created['id']}", headers=auth(admin))
    assert after.json()["status"] == "draft"


@pytest.mark.parametrize("outcome", ["worse", "noChange"])
async def test_a_genuine_attempt_that_did_not_improve_is_approvable(
    client: httpx.AsyncClient, admin: dict[str, str], outcome: str
) -> None:
    submitted = await submitted_project(client, admin, outcome=outcome)
    path = f"/improvementProjects/{submitted['id']}"
    response = await client.post(f"{path}/reviews", json=review(), headers=auth(admin))
    assert response.status_code == 201, response.text
    assert response.json()["total"] == 34
    approved = (await client.get(path, headers=auth(admin))).json()
    assert (approved["status"], approved["outcome"]) == ("approved", outcome)
    assert approved["approvedAt"] is not None


async def test_approval_below_the_pass_mark_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    submitted = await submitted_project(client, admin)
    low = review(scores=scores(aim=2, measures=2, changes=2, sustainabilityAndSpread=2))  # 16
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews", json=low, headers=auth(admin)
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "decision"
    assert "16/50" in response.json()["detail"]


async def test_pass_mark_comes_from_configuration(
    client: httpx.AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    """34/50 passes the default mark (25) but not a configured 40."""
    strict_app = create_app(settings.model_copy(update={"silver_pass_mark": 40}))
    transport = httpx.ASGITransport(app=strict_app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as strict:
            first = await submitted_project(client, admin)
            refused = await strict.post(
                f"/improvementProjects/{first['id']}/reviews", json=review(), headers=auth(admin)
            )
            assert refused.status_code == 422
            assert "pass mark 40" in refused.json()["invalidParams"][0]["reason"]
            accepted = await client.post(
                f"/improvementProjects/{first['id']}/reviews", json=review(), headers=auth(admin)
            )
            assert accepted.status_code == 201
            assert accepted.json()["passMark"] == 25
            second = await submitted_project(client, admin)
            full = review(scores=scores(aim=10, measures=10, changes=10))  # 43
            strictly = await strict.post(
                f"/improvementProjects/{second['id']}/reviews", json=full, headers=auth(admin)
            )
            assert strictly.status_code == 201, strictly.text
            assert strictly.json()["passMark"] == 40
    finally:
        await strict_app.state.engine.dispose()


async def test_returned_needs_comments(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    submitted = await submitted_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review("returned", comments=None),
        headers=auth(admin),
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "comments"


@pytest.mark.parametrize("number", [LEAD, MEMBER, MENTOR, SPONSOR])
async def test_a_reviewer_on_the_team_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], number: str
) -> None:
    submitted = await submitted_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review(reviewerEmployeeNumber=number),
        headers=auth(admin),
    )
    assert response.status_code == 403
    assert number in response.json()["detail"]
    listed = await client.get(
        f"/improvementProjects/{submitted['id']}/reviews", headers=auth(admin)
    )
    assert listed.json()["data"] == []


async def test_unknown_reviewer_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    submitted = await submitted_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review(reviewerEmployeeNumber="999999"),
        headers=auth(admin),
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "reviewerEmployeeNumber"


@pytest.mark.parametrize(
    ("section", "value"),
    [("principles", 6), ("aim", 11), ("reflection", -1), ("sustainabilityAndSpread", 11)],
)
async def test_scores_outside_the_rubric_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], section: str, value: int
) -> None:
    submitted = await submitted_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review(scores=scores(**{section: value})),
        headers=auth(admin),
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == f"scores.{section}"


async def test_every_review_is_kept_and_listed_and_events_follow_in_order(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    submitted = await submitted_project(client, admin)
    path = f"/improvementProjects/{submitted['id']}"
    returned = await client.post(
        f"{path}/reviews", json=review("returned", comments="Say more."), headers=auth(admin)
    )
    assert returned.status_code == 201, returned.text
    assert (await client.post(f"{path}/submission", headers=auth(admin))).status_code == 200
    assert (
        await client.post(f"{path}/reviews", json=review(), headers=auth(admin))
    ).status_code == 201
    listed = (await client.get(f"{path}/reviews", headers=auth(admin))).json()["data"]
    assert [(r["decision"], r["reviewerEmployeeNumber"]) for r in listed] == [
        ("returned", REVIEWER),
        ("approved", REVIEWER),
    ]
    assert listed[0]["comments"] == "Say more." and listed[1]["scores"] == scores()
    feed = await read_events(client, auth(admin), at_least=7, types=PROJECT_EVENTS)
    assert [e["type"] for e in feed["data"]] == [
        "projectCreated",
        "projectSubmitted",
        "projectReviewed",
        "projectReturned",
        "projectSubmitted",
        "projectReviewed",
        "projectApproved",
    ]
    assert {e["resourceId"] for e in feed["data"]} == {str(submitted["id"])}
    approved = feed["data"][-1]
    assert approved["resourceType"] == "improvementProject" and approved["organisation"] == "7A4"
    assert approved["data"]["reviewId"] == listed[1]["id"]


async def test_withdrawal_emits_its_event(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await create_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{created['id']}/withdrawal", headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn" and response.json()["allowedActions"] == []
    feed = await read_events(client, auth(admin), at_least=2, types=PROJECT_EVENTS)
    assert [(e["type"], e["data"].get("previousStatus")) for e in feed["data"]] == [
        ("projectCreated", None),
        ("projectWithdrawn", "draft"),
    ]


async def test_stale_if_match_on_an_action_is_412(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    submitted = await submitted_project(client, admin)
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review(),
        headers={**auth(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 412


async def test_approval_calls_the_award_hook_for_lead_members_and_mentors(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[int], str | None]] = []

    async def hook(session: AsyncSession, staff_ids: Sequence[int], caller: Caller | None) -> None:
        status = await session.scalar(select(ImprovementProject.status))  # same transaction
        calls.append((list(staff_ids), status))

    monkeypatch.setattr(evaluation, "evaluate_awards", hook)
    submitted = await submitted_project(client, admin)
    await client.post(
        f"/improvementProjects/{submitted['id']}/reviews",
        json=review("returned", comments="More."),
        headers=auth(admin),
    )
    assert calls == []
    await client.post(f"/improvementProjects/{submitted['id']}/submission", headers=auth(admin))
    await client.post(
        f"/improvementProjects/{submitted['id']}/reviews", json=review(), headers=auth(admin)
    )
    rows = await session.execute(select(StaffMember.employee_number, StaffMember.id))
    ids = {number: staff_id for number, staff_id in rows}
    assert calls == [(sorted([ids[LEAD], ids[MEMBER], ids[MENTOR]]), "approved")]


async def test_restricted_reviewer_cannot_review_another_organisations_project(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    submitted = await submitted_project(client, admin)
    reviewer = await make_client(scopes=["projects:review"], organisations=["7A6"])
    response = await client.post(
        f"/improvementProjects/{submitted['id']}/reviews", json=review(), headers=auth(reviewer)
    )
    assert response.status_code == 404
