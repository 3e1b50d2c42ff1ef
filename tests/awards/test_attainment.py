"""Awards dated by their evidence, through the API on both databases: Bronze is attained at
the earliest qualifying completion whatever order or grouping the completions came in, moves
when earlier evidence arrives (platforms backfill history) or the evidence it rests on is
retracted, each time with an ``awardRedated`` event; the award, the progress, the event feed
and uptake ``asOf`` agree. ``grantedAt`` stays when the service granted it."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import UK, utcnow
from tests.awards.evidence import feed
from tests.conftest import auth, eventually

COURSE = {
    "title": "IQT Bronze e-learning",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _completion(external_id: str, completed_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "employeeNumber": "100001",
        "courseCode": "IQT-BRONZE",
        "completedAt": _iso(completed_at),
        "passed": True,
        "externalId": external_id,
        **extra,
    }


@pytest.fixture
async def course(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.put("/courses/IQT-BRONZE", json=COURSE, headers=auth(admin))
    assert response.status_code in (200, 201), response.text


async def _post(client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]) -> int:
    response = await client.post("/completions", json=body, headers=auth(admin))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _bronze(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/staff/100001/awards", headers=auth(admin))
    assert response.status_code == 200, response.text
    [bronze] = [a for a in response.json()["data"] if a["status"] == "active"]
    return dict(bronze)


async def _reached(client: httpx.AsyncClient, admin: dict[str, str]) -> datetime:
    response = await client.get("/staff/100001/progress", headers=auth(admin))
    assert response.status_code == 200, response.text
    return _parse(response.json()["levels"][0]["reachedAt"])


async def _holders(client: httpx.AsyncClient, admin: dict[str, str], as_of: datetime) -> int:
    day = as_of.astimezone(UK).date().isoformat()
    response = await client.get(
        "/uptake", params={"groupBy": "organisation", "asOf": day}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["data"] if r["organisation"] == "7A4"]
    return int(row["atLeastBronze"])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _agree(
    client: httpx.AsyncClient, admin: dict[str, str], attained: datetime, evidence: list[int]
) -> dict[str, Any]:
    """The award, the progress, the feed's last word on the award and the uptake say the
    same: attained at ``attained``, resting on ``evidence``.

    On PostgreSQL the feed holds its newest events back while any older transaction on the
    server is open, so its last word may for a while be an earlier one: it is read until it
    says ``attained`` (a wrong last word fails once PATIENCE runs out)."""
    bronze = await _bronze(client, admin)
    assert _parse(bronze["attainedAt"]) == attained
    assert bronze["evidence"]["completionIds"] == evidence
    assert await _reached(client, admin) == attained
    events: list[dict[str, Any]] = []

    async def last_word_shown() -> bool:
        nonlocal events
        events = [
            e
            for e in await feed(client, admin, "awardGranted,awardRedated")
            if e["resourceId"] == str(bronze["id"])
        ]
        return bool(events) and _parse(events[-1]["data"]["attainedAt"]) == attained

    await eventually(last_word_shown)
    assert _parse(events[-1]["data"]["attainedAt"]) == attained
    assert events[-1]["data"]["evidence"]["completionIds"] == evidence
    assert await _holders(client, admin, attained - timedelta(days=1)) == 0
    assert await _holders(client, admin, attained + timedelta(days=1)) == 1
    return bronze


async def test_earlier_evidence_dates_bronze_back_and_its_retraction_dates_it_forward(
    client: httpx.AsyncClient, admin: dict[str, str], course: None
) -> None:
    now = utcnow().replace(microsecond=0)
    an_hour_ago, a_month_ago = now - timedelta(hours=1), now - timedelta(days=30)
    recent = await _post(client, admin, _completion("recent", an_hour_ago))
    granted = await _agree(client, admin, an_hour_ago, [recent])

    backfilled = await _post(client, admin, _completion("backfilled", a_month_ago))
    bronze = await _agree(client, admin, a_month_ago, [backfilled])
    assert bronze["id"] == granted["id"]
    assert bronze["grantedAt"] == granted["grantedAt"]  # when the service granted it
    assert await _holders(client, admin, now - timedelta(days=10)) == 1
    [moved] = await feed(client, admin, "awardRedated")
    assert moved["data"]["cause"] == "evidenceAdded"
    assert _parse(moved["data"]["previousAttainedAt"]) == an_hour_ago

    retracted = await client.request(
        "DELETE",
        f"/completions/{backfilled}",
        params={"reason": "Recorded in error."},
        headers=auth(admin),
    )
    assert retracted.status_code == 200, retracted.text
    bronze = await _agree(client, admin, an_hour_ago, [recent])
    assert bronze["id"] == granted["id"]
    back = (await feed(client, admin, "awardRedated", 2))[-1]
    assert back["data"]["cause"] == "evidenceRetracted"


@pytest.mark.parametrize("arrival", ["newestFirst", "oldestFirst", "oneBatch"])
async def test_bronze_is_attained_at_the_earliest_completion_whatever_the_arrival(
    client: httpx.AsyncClient, admin: dict[str, str], course: None, arrival: str
) -> None:
    now = utcnow().replace(microsecond=0)
    moments = [now - timedelta(days=days) for days in (2, 40, 15)]
    bodies = [_completion(f"c{n}", moment) for n, moment in enumerate(moments)]
    if arrival == "oneBatch":
        response = await client.post(
            "/completionBatches", json={"records": bodies}, headers=auth(admin)
        )
        assert response.json()["recorded"] == 3, response.text
        listed = await client.get("/completions?employeeNumber=100001", headers=auth(admin))
        ids = {c["externalId"]: c["id"] for c in listed.json()["data"]}
    else:
        order = (
            bodies if arrival == "newestFirst" else sorted(bodies, key=lambda b: b["completedAt"])
        )
        ids = {b["externalId"]: await _post(client, admin, b) for b in order}
    await _agree(client, admin, moments[1], [ids["c1"]])


@pytest.mark.postgresql
async def test_fifty_concurrent_completions_leave_bronze_at_the_earliest(
    client: httpx.AsyncClient, admin: dict[str, str], course: None
) -> None:
    now = utcnow().replace(microsecond=0)
    # Dates in no order: the earliest is neither the first nor the last sent.
    moments = [now - timedelta(days=(index * 7) % 50 + 1) for index in range(50)]
    bodies = [_completion(f"burst-{n}", moment) for n, moment in enumerate(moments)]
    responses = await asyncio.gather(
        *(client.post("/completions", json=body, headers=auth(admin)) for body in bodies)
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses[:3]]
    earliest = min(range(50), key=lambda n: (moments[n], responses[n].json()["id"]))
    await _agree(client, admin, moments[earliest], [responses[earliest].json()["id"]])
    assert len(await feed(client, admin, "awardGranted")) == 1
