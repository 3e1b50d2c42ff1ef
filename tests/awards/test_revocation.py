"""POST /awards/{id}/revocation: a reason, a cascade to the levels above, events, no repeats."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.awards.events import AwardRevoked
from app.events.service import record_feed_events
from app.models import Award
from tests.awards.conftest import events_of, insert_award, legacy, staff_id
from tests.awards.evidence import add_completion, add_course, awards_of, evaluate
from tests.conftest import ClientFactory, auth

AT = datetime(2024, 1, 1, tzinfo=UTC)
REASON = {"reason": "Recorded against the wrong person."}


@pytest.fixture
async def ladder(admin: dict[str, str], session: AsyncSession) -> dict[str, int]:
    """Bronze, Silver and Gold of 100001, and a Bronze of 200001."""
    awards = {
        level: await insert_award(session, "100001", level, AT)
        for level in ("bronze", "silver", "gold")
    }
    awards["other"] = await insert_award(session, "200001", "bronze", AT)
    return awards


async def test_revoking_bronze_revokes_the_levels_above_with_events(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    response = await client.post(
        f"/awards/{ladder['bronze']}/revocation", json=REASON, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["award"]["status"] == "revoked"
    assert body["award"]["revokedReason"] == REASON["reason"]
    assert body["award"]["revocationCause"] == "administrator"
    assert body["award"]["revokedAt"] is not None
    assert [(a["level"], a["revocationCause"]) for a in body["cascaded"]] == [
        ("silver", "levelBelowRevoked"),
        ("gold", "levelBelowRevoked"),
    ]
    events = await events_of(client, admin, "awardRevoked", 3)
    assert [e["resourceId"] for e in events] == [
        str(ladder[k]) for k in ("bronze", "silver", "gold")
    ]
    assert all(e["data"]["reason"] == REASON["reason"] for e in events)
    assert [e["data"].get("cascadedFrom") for e in events] == [
        None,
        ladder["bronze"],
        ladder["bronze"],
    ]
    other = (await client.get(f"/awards/{ladder['other']}", headers=auth(admin))).json()
    assert other["status"] == "active"


async def test_revoking_silver_leaves_bronze_alone(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    body = (
        await client.post(
            f"/awards/{ladder['silver']}/revocation", json=REASON, headers=auth(admin)
        )
    ).json()
    assert [a["level"] for a in body["cascaded"]] == ["gold"]
    bronze = (await client.get(f"/awards/{ladder['bronze']}", headers=auth(admin))).json()
    assert bronze["status"] == "active"


async def test_revoking_a_revoked_award_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    url = f"/awards/{ladder['gold']}/revocation"
    await client.post(url, json=REASON, headers=auth(admin))
    again = await client.post(url, json=REASON, headers=auth(admin))
    assert again.status_code == 409
    assert "revokedAt" in again.json()


async def test_a_reason_is_required_and_not_blank(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    url = f"/awards/{ladder['bronze']}/revocation"
    for body in ({}, {"reason": "   "}, {"reason": "x" * 501}):
        response = await client.post(url, json=body, headers=auth(admin))
        assert response.status_code == 422
        assert response.json()["invalidParams"][0]["name"] == "reason"


async def test_after_revocation_the_level_can_be_recorded_again(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    await client.post(f"/awards/{ladder['bronze']}/revocation", json=REASON, headers=auth(admin))
    again = await client.post("/awards", json=legacy(), headers=auth(admin))
    assert again.status_code == 201, again.text


async def test_revocation_needs_awards_write_and_a_visible_award(
    client: httpx.AsyncClient, make_client: ClientFactory, ladder: dict[str, int]
) -> None:
    reader = await make_client(["awards:read"])
    url = f"/awards/{ladder['bronze']}/revocation"
    assert (await client.post(url, json=REASON, headers=auth(reader))).status_code == 403
    elsewhere = await make_client(["awards:write"], organisations=["7A6"])
    assert (await client.post(url, json=REASON, headers=auth(elsewhere))).status_code == 404
    unknown = await client.post("/awards/999999/revocation", json=REASON, headers=auth(elsewhere))
    assert unknown.status_code == 404


async def test_concurrent_revocations_revoke_once(
    client: httpx.AsyncClient, admin: dict[str, str], ladder: dict[str, int]
) -> None:
    url = f"/awards/{ladder['bronze']}/revocation"
    responses = await asyncio.gather(
        *(client.post(url, json=REASON, headers=auth(admin)) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    assert len(await events_of(client, admin, "awardRevoked", 3)) == 3


@pytest.mark.postgresql
async def test_an_award_revoked_meanwhile_is_not_revoked_again_nor_announced(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, engine: AsyncEngine
) -> None:
    """The evaluation of a retraction plans to revoke a Bronze that another transaction is
    revoking; its UPDATE waits for that one, finds the award no longer active, and says
    nothing: one awardRevoked event, the other transaction's."""
    course = await add_course(session)
    completion = await add_completion(session, admin, "100001", course)
    await evaluate(session, "100001")
    [bronze] = await awards_of(session, "100001")
    async with AsyncSession(engine) as other:
        await other.execute(
            update(Award)
            .where(Award.id == bronze["id"])
            .values(
                status="revoked",
                revoked_at=func.now(),
                revoked_reason="Recorded against the wrong person.",
                revocation_cause="administrator",
            )
        )
        revoked = AwardRevoked(
            bronze["id"],
            "7A4",
            await staff_id(session, "100001"),
            "100001",
            "bronze",
            "Recorded against the wrong person.",
            "administrator",
        )
        await record_feed_events(other, [revoked], None)
        retraction = asyncio.create_task(
            client.delete(f"/completions/{completion}?reason=wrong person", headers=auth(admin))
        )
        await _until_waiting_for_a_row_lock(engine)
        await other.commit()
    assert (await retraction).status_code == 200
    events = await events_of(client, admin, "awardRevoked,completionRetracted", 2)
    assert sorted((e["type"], e["data"].get("cause")) for e in events) == [
        ("awardRevoked", "administrator"),
        ("completionRetracted", None),
    ]


async def _until_waiting_for_a_row_lock(engine: AsyncEngine) -> None:
    """Polls (another process: the server) until a statement of this database waits for a
    lock, for up to about 30 s."""
    for _ in range(600):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("nobody waited for the row lock")
