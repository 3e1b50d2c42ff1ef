"""Awards: legacy import, reads by id, by person and as a paged, filtered collection."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.awards.conftest import events_of, insert_award, legacy
from tests.conftest import ClientFactory, auth


async def test_a_legacy_award_is_recorded_with_its_reference_and_an_event(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/awards", json=legacy(), headers=auth(admin))
    assert response.status_code == 201, response.text
    award = response.json()
    assert response.headers["location"].endswith(f"/awards/{award['id']}")
    assert award["employeeNumber"] == "100001" and award["organisation"] == "7A4"
    assert (award["level"], award["status"], award["rulesVersion"]) == ("bronze", "active", None)
    assert award["grantedAt"] == "2019-06-30T00:00:00Z"
    assert award["evidence"] == {
        "completionIds": [],
        "projectIds": [],
        "legacyReference": "IQT Bronze register 2019, row 1182",
    }
    [event] = await events_of(client, admin, "awardGranted")
    assert (event["resourceId"], event["organisation"]) == (str(award["id"]), "7A4")
    assert event["data"]["employeeNumber"] == "100001"
    assert event["data"]["level"] == "bronze"


async def test_sending_the_same_legacy_award_again_answers_the_stored_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post("/awards", json=legacy(), headers=auth(admin))
    again = await client.post("/awards", json=legacy(), headers=auth(admin))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(await events_of(client, admin, "awardGranted")) == 1


async def test_a_second_active_award_of_the_same_level_is_409(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post("/awards", json=legacy(), headers=auth(admin))
    other = await client.post("/awards", json=legacy(reference="Another"), headers=auth(admin))
    assert other.status_code == 409
    assert other.json()["existingAwardId"] == first.json()["id"]
    silver = await client.post("/awards", json=legacy(level="silver"), headers=auth(admin))
    assert silver.status_code == 201


async def test_a_legacy_award_needs_a_known_visible_person_and_a_past_date(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    unknown = await client.post("/awards", json=legacy("999999"), headers=auth(admin))
    assert unknown.status_code == 422
    assert unknown.json()["invalidParams"][0]["name"] == "employeeNumber"
    limited = await make_client(organisations=["7A4"])
    elsewhere = await client.post("/awards", json=legacy("200001"), headers=auth(limited))
    assert elsewhere.status_code == 422
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    late = await client.post("/awards", json=legacy(grantedAt=future), headers=auth(admin))
    assert late.status_code == 422
    assert late.json()["invalidParams"][0]["name"] == "grantedAt"
    naive = await client.post(
        "/awards", json=legacy(grantedAt="2019-06-30T00:00:00"), headers=auth(admin)
    )
    assert naive.status_code == 422


async def test_a_legacy_award_needs_every_field_and_a_known_level(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = legacy(level="platinum")
    del body["reference"]
    response = await client.post("/awards", json=body, headers=auth(admin))
    assert response.status_code == 422
    assert {p["name"] for p in response.json()["invalidParams"]} == {"level", "reference"}


async def test_recording_awards_needs_awards_write(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    reader = await make_client(["awards:read"])
    assert (await client.post("/awards", json=legacy(), headers=auth(reader))).status_code == 403


async def test_an_award_is_read_by_id_and_hidden_from_other_organisations(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    award_id = (await client.post("/awards", json=legacy(), headers=auth(admin))).json()["id"]
    found = await client.get(f"/awards/{award_id}", headers=auth(admin))
    assert found.status_code == 200 and found.json()["id"] == award_id
    other = await make_client(["awards:read"], organisations=["7A6"])
    assert (await client.get(f"/awards/{award_id}", headers=auth(other))).status_code == 404
    assert (await client.get("/awards/999999", headers=auth(admin))).status_code == 404


async def test_a_persons_awards_are_listed_oldest_first_active_and_revoked(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    revoked_at = datetime(2025, 1, 1, tzinfo=UTC)
    await insert_award(session, "100001", "silver", datetime(2024, 5, 1, tzinfo=UTC))
    await insert_award(
        session,
        "100001",
        "bronze",
        datetime(2023, 5, 1, tzinfo=UTC),
        status="revoked",
        revoked_at=revoked_at,
        revoked_reason="evidenceRetracted",
        revocation_cause="evidenceRetracted",
    )
    await insert_award(session, "100001", "bronze", datetime(2024, 1, 1, tzinfo=UTC))
    response = await client.get("/staff/100001/awards", headers=auth(admin))
    assert response.status_code == 200, response.text
    awards = response.json()["data"]
    assert [(a["level"], a["status"]) for a in awards] == [
        ("bronze", "revoked"),
        ("bronze", "active"),
        ("silver", "active"),
    ]
    assert awards[0]["revocationCause"] == "evidenceRetracted"


async def test_a_persons_awards_are_404_when_unknown_or_not_visible(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    assert (await client.get("/staff/999999/awards", headers=auth(admin))).status_code == 404
    other = await make_client(["awards:read"], organisations=["7A6"])
    assert (await client.get("/staff/100001/awards", headers=auth(other))).status_code == 404
    assert (await client.get("/staff/200001/awards", headers=auth(other))).status_code == 200


async def test_the_collection_filters_by_level_status_organisation_and_date(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    early, late = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    bronze = await insert_award(session, "100001", "bronze", early)
    silver = await insert_award(session, "100001", "silver", late)
    other = await insert_award(session, "200001", "bronze", late)

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/awards?{query}", headers=auth(admin))
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["data"]]

    assert await ids("") == [bronze, silver, other]
    assert await ids("level=bronze") == [bronze, other]
    assert await ids("organisation=7A6") == [other]
    assert await ids("grantedSince=2025-01-01T00:00:00Z") == [silver, other]
    assert await ids("status=revoked") == []
    assert (await client.get("/awards?level=platinum", headers=auth(admin))).status_code == 422


async def test_the_collection_pages_and_shows_a_limited_client_only_its_organisations(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_client: ClientFactory,
    session: AsyncSession,
) -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    for level in ("bronze", "silver", "gold"):
        await insert_award(session, "100001", level, at)
    await insert_award(session, "200001", "bronze", at)
    first = (await client.get("/awards?pageSize=2", headers=auth(admin))).json()
    assert first["meta"]["count"] == 2
    following = [link["href"] for link in first["links"] if link["rel"] == "next"]
    second = (await client.get(following[0], headers=auth(admin))).json()
    assert len(first["data"]) + len(second["data"]) == 4
    limited = await make_client(["awards:read"], organisations=["7A6"])
    seen = (await client.get("/awards", headers=auth(limited))).json()["data"]
    assert [a["employeeNumber"] for a in seen] == ["200001"]


async def test_a_leaver_keeps_their_awards(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.post("/awards", json=legacy(), headers=auth(admin))
    left = await client.patch("/staff/100001", json={"endDate": "2025-12-31"}, headers=auth(admin))
    assert left.status_code == 200, left.text
    awards = (await client.get("/staff/100001/awards", headers=auth(admin))).json()["data"]
    assert [a["status"] for a in awards] == ["active"]
