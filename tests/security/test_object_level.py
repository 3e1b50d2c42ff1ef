"""OWASP API1 (broken object level authorisation): a client restricted to some organisations
asking for another organisation's object by its id gets 404 — the same answer as for an id that
does not exist, with nothing of the object in it — and a write changes nothing. A PUT to a
global id (employee number, board meeting id) held by another organisation's object is 409
"cannot be used by this client" instead, since a PUT to a free id creates (README,
"Organisation restriction"); it says nothing of the object either.

Driven by the route table: every operation with an id in its path is listed below, either as
organisation-scoped (with the request that reaches another organisation's object) or as global
(with the reason), so a new route without a case fails ``test_every_route_with_an_id_has_a_case``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ClientFactory, auth
from tests.projects.factories import LEAD, review
from tests.security.routes import Operation, with_an_id_in_the_path
from tests.security.world import MEETING_ID, World, build_world, leaked, stored_rows
from tests.staff.factories import person


@dataclass(frozen=True)
class Scoped:
    """An operation on one organisation's object: ``url`` reaches the object of organisation
    7A4; ``missing`` (reads) reaches an id that does not exist at all."""

    url: Callable[[World], str]
    missing: str | None = None
    body: dict[str, Any] | None = None
    if_match: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 404


@dataclass(frozen=True)
class Global:
    """An operation on a programme-wide object that every client with the scope shares."""

    reason: str


SCOPED: dict[Operation, Scoped] = {
    ("GET", "/organisations/{odsCode}"): Scoped(
        lambda w: "/organisations/7A4", "/organisations/7Z9"
    ),
    ("PUT", "/organisations/{odsCode}"): Scoped(
        lambda w: "/organisations/7A4", body={"name": "Taken over", "type": "healthBoard"}
    ),
    ("GET", "/staff/{employeeNumber}"): Scoped(lambda w: f"/staff/{LEAD}", "/staff/999999"),
    ("GET", "/staff/{employeeNumber}/history"): Scoped(
        lambda w: f"/staff/{LEAD}/history", "/staff/999999/history"
    ),
    ("GET", "/staff/{employeeNumber}/awards"): Scoped(
        lambda w: f"/staff/{LEAD}/awards", "/staff/999999/awards"
    ),
    ("GET", "/staff/{employeeNumber}/progress"): Scoped(
        lambda w: f"/staff/{LEAD}/progress", "/staff/999999/progress"
    ),
    ("GET", "/staff/{employeeNumber}/personalData"): Scoped(
        lambda w: f"/staff/{LEAD}/personalData", "/staff/999999/personalData"
    ),
    ("POST", "/staff/{employeeNumber}/erasureRequests"): Scoped(
        lambda w: f"/staff/{LEAD}/erasureRequests",
        body={"legalBasis": "objectionUpheld", "overrideReason": "Upheld by the DPO."},
    ),
    ("PUT", "/staff/{employeeNumber}"): Scoped(
        lambda w: f"/staff/{LEAD}", body=person(LEAD, organisation="7A6"), status=409
    ),
    ("PATCH", "/staff/{employeeNumber}"): Scoped(
        lambda w: f"/staff/{LEAD}", body={"organisation": "7A6", "jobTitle": "Moved"}
    ),
    ("GET", "/completions/{completionId}"): Scoped(
        lambda w: f"/completions/{w.completion_id}", "/completions/999999999"
    ),
    ("DELETE", "/completions/{completionId}"): Scoped(
        lambda w: f"/completions/{w.completion_id}?reason=Recorded%20in%20error"
    ),
    ("GET", "/improvementProjects/{projectId}"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}", "/improvementProjects/999999999"
    ),
    ("GET", "/improvementProjects/{projectId}/reviews"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}/reviews",
        "/improvementProjects/999999999/reviews",
    ),
    ("PATCH", "/improvementProjects/{projectId}"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}",
        body={"title": "Taken over", "organisation": "7A6"},
        if_match=True,
    ),
    ("POST", "/improvementProjects/{projectId}/submission"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}/submission"
    ),
    ("POST", "/improvementProjects/{projectId}/withdrawal"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}/withdrawal"
    ),
    ("POST", "/improvementProjects/{projectId}/reviews"): Scoped(
        lambda w: f"/improvementProjects/{w.project_id}/reviews", body=review()
    ),
    ("GET", "/awards/{awardId}"): Scoped(lambda w: f"/awards/{w.award_id}", "/awards/999999999"),
    ("GET", "/awards/{awardId}/credential"): Scoped(
        lambda w: f"/awards/{w.award_id}/credential", "/awards/999999999/credential"
    ),
    ("POST", "/awards/{awardId}/revocation"): Scoped(
        lambda w: f"/awards/{w.award_id}/revocation", body={"reason": "Not ours to keep."}
    ),
    ("GET", "/staffSnapshots/{snapshotId}"): Scoped(
        lambda w: f"/staffSnapshots/{w.snapshot_id}", "/staffSnapshots/999999999"
    ),
    ("POST", "/staffSnapshots/{snapshotId}/completion"): Scoped(
        lambda w: f"/staffSnapshots/{w.snapshot_id}/completion?allowMassLeavers=true"
    ),
    ("PUT", "/boardMeetings/{id}"): Scoped(
        lambda w: f"/boardMeetings/{MEETING_ID}",
        body={"organisation": "7A6", "meetingDate": "2026-11-06", "qiDiscussed": False},
        status=409,
    ),
}

GLOBAL: dict[Operation, Global] = {
    ("GET", "/courses/{courseCode}"): Global(
        "The course catalogue is the programme's: every organisation's staff take the same "
        "courses. Changing it needs courses:write, a scope for the QI team, not for platforms."
    ),
    ("PUT", "/courses/{courseCode}"): Global("The course catalogue (see GET)."),
    ("GET", "/awardRules/{version}"): Global(
        "Award rules are one programme-wide document; no organisation owns a version."
    ),
    ("GET", "/credentials/achievements/{level}"): Global(
        "Bronze, Silver and Gold as Open Badges achievements: public, programme-wide."
    ),
    ("GET", "/credentials/keys/{kid}"): Global(
        "The public keys of the credentials: one key ring for the whole service."
    ),
    ("GET", "/credentials/statusLists/{number}"): Global(
        "The revocation status lists: public bits, one sequence for the whole service."
    ),
    ("GET", "/awardRules/{version}/evaluation"): Global(
        "The re-evaluation job of a rules version: progress counts only, no personal data."
    ),
}


def test_every_route_with_an_id_has_a_case(app: FastAPI) -> None:
    assert not set(SCOPED) & set(GLOBAL)
    assert with_an_id_in_the_path(app) == set(SCOPED) | set(GLOBAL)


@pytest.fixture
async def world(client: httpx.AsyncClient, make_client: ClientFactory) -> World:
    return await build_world(client, make_client)


@pytest.fixture
async def elsewhere(world: World, make_client: ClientFactory) -> dict[str, str]:
    """Every scope, restricted to the other organisation (7A6)."""
    return await make_client(organisations=["7A6"], name="Aneurin Bevan HR")


async def _send(
    client: httpx.AsyncClient, method: str, url: str, case: Scoped, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, url, json=case.body, headers={**headers, **case.headers})


@pytest.mark.parametrize("operation", sorted(SCOPED), ids=" ".join)
async def test_another_organisations_object_is_hidden_and_unchanged(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    world: World,
    elsewhere: dict[str, str],
    operation: Operation,
) -> None:
    method, _ = operation
    case = SCOPED[operation]
    url = case.url(world)
    headers = auth(elsewhere)
    if case.if_match:
        headers["If-Match"] = world.project_etag
    if method == "GET":  # it is there: the 404 below is the restriction, not a missing object
        seen = await client.get(url, headers=auth(world.admin))
        assert seen.status_code == 200, seen.text
    before = await stored_rows(engine)

    hidden = await _send(client, method, url, case, headers)

    assert hidden.status_code == case.status, hidden.text
    assert hidden.headers["content-type"].startswith("application/problem+json")
    assert leaked(hidden.text) == []
    assert await stored_rows(engine) == before
    if case.missing is not None:
        missing = await _send(client, method, case.missing, case, headers)
        assert missing.status_code == 404
        assert {k: missing.json()[k] for k in ("type", "title")} == {
            k: hidden.json()[k] for k in ("type", "title")
        }
