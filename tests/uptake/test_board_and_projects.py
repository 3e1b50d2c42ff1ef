"""Board coverage and meetings, time series and project counts."""

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ImprovementProject
from tests.conftest import auth

pytestmark = pytest.mark.usefixtures("figures")


async def _meeting(
    client: httpx.AsyncClient, who: dict[str, str], key: str, day: str, qi: bool
) -> httpx.Response:
    body = {"organisation": "7A4", "meetingDate": day, "qiDiscussed": qi}
    return await client.put(f"/boardMeetings/{key}", json=body, headers=auth(who))


async def test_board_meetings_are_recorded_listed_and_counted_per_period(
    client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    first = await _meeting(client, admin, "7A4-2025-02-10", "2025-02-10", True)
    assert first.status_code == 201, first.text
    assert (await _meeting(client, admin, "7A4-2025-03-10", "2025-03-10", False)).status_code == 201
    again = await _meeting(client, admin, "7A4-2025-03-10", "2025-03-10", False)
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    params = {"organisation": "7A4", "from": "2025-01-01"}
    listed = await client.get("/boardMeetings", params=params, headers=auth(admin))
    assert [m["id"] for m in listed.json()["data"]] == ["7A4-2025-02-10", "7A4-2025-03-10"]
    report = await client.get(
        "/uptake/board",
        params={"interval": "quarter", "from": "2025-01-01", "to": "2025-06-30"},
        headers=auth(analyst),
    )
    body = report.json()
    rows = {(r["organisation"], r["periodStart"]): r for r in body["data"]}
    q1 = rows[("7A4", "2025-01-01")]
    assert (q1["boardMembers"], q1["atLeastBronze"], q1["belowTarget"]) == (1, 1, False)
    assert (q1["meetingsHeld"], q1["meetingsDiscussingQi"]) == (2, 1)
    assert rows[("7A4", "2025-04-01")]["meetingsHeld"] == 0
    assert body["organisationsBelowTarget"] == []


async def test_recording_a_meeting_needs_organisations_write(
    client: httpx.AsyncClient, dashboard: dict[str, str]
) -> None:
    response = await _meeting(client, dashboard, "7A4-x", "2025-02-10", True)
    assert response.status_code == 403


async def test_time_series_gives_the_figures_at_each_period_end(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    response = await client.get(
        "/uptake/timeSeries",
        params={"interval": "month", "from": "2024-11-01", "to": "2025-01-31",
                "groupBy": "organisation", "organisation": "7A6"},
        headers=auth(analyst),
    )  # fmt: skip
    points = [(r["periodEnd"], r["headcount"], r["atLeastBronze"]) for r in response.json()["data"]]
    assert points == [("2024-11-30", 5, 2), ("2024-12-31", 5, 2), ("2025-01-31", 4, 2)]


async def test_a_series_from_a_future_date_without_to_is_empty_not_refused(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    later = (date.today() + timedelta(days=400)).isoformat()
    for path in ("/uptake/timeSeries", "/uptake/board"):
        response = await client.get(path, params={"from": later}, headers=auth(analyst))
        assert response.status_code == 200, response.text
        assert response.json()["data"] == []
    explicit = await client.get(
        "/uptake/timeSeries", params={"from": later, "to": "2025-01-31"}, headers=auth(analyst)
    )
    assert explicit.status_code == 422


async def test_projects_are_counted_by_status_and_outcome(
    client: httpx.AsyncClient,
    session: AsyncSession,
    analyst: dict[str, str],
    dashboard: dict[str, str],
) -> None:
    for status, outcome in [("approved", "improved"), ("approved", "improved"), ("draft", None)]:
        session.add(
            ImprovementProject(
                title="Falls", organisation_ods_code="7A4", measures=[], changes=[], links=[],
                status=status, outcome=outcome,
            )
        )  # fmt: skip
    await session.commit()
    response = await client.get("/uptake/projects", headers=auth(analyst))
    counts = {(r["status"], r["outcome"]): r["projects"] for r in response.json()["data"]}
    assert counts == {("approved", "improved"): 2, ("draft", None): 1}
    controlled = await client.get("/uptake/projects", headers=auth(dashboard))
    rows = controlled.json()["data"]
    assert [(r["projects"], r["suppressed"]) for r in rows] == [(None, True), (None, True)]
    yearly = await client.get(
        "/uptake/projects", params={"interval": "year"}, headers=auth(dashboard)
    )
    assert all(r["periodStart"] for r in yearly.json()["data"])
