"""A full snapshot sent in several batches (an organisation can have more staff than one batch
holds): batches that name it store their records and end-date nobody; completing it end-dates
the organisation's active staff that none of them named, under the mass-leaver guard."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core import clock
from tests.conftest import ClientFactory, auth
from tests.staff.factories import batch_record, seed_organisations, settled_event_types
from tests.staff.test_batches import post_batch

EVERYONE = [batch_record(f"5000{i:02d}") for i in range(10)]


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    response = await post_batch(client, creds, EVERYONE)
    assert response.json()["created"] == 10, response.text
    return creds


async def open_snapshot(
    client: httpx.AsyncClient, creds: dict[str, str], organisation: str = "7A4"
) -> dict[str, Any]:
    response = await client.post(
        "/staffSnapshots", json={"organisation": organisation}, headers=auth(creds)
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"/staffSnapshots/{response.json()['id']}")
    return dict(response.json())


async def complete(
    client: httpx.AsyncClient, creds: dict[str, str], snapshot_id: int, **params: Any
) -> httpx.Response:
    return await client.post(
        f"/staffSnapshots/{snapshot_id}/completion", params=params, headers=auth(creds)
    )


async def active_numbers(client: httpx.AsyncClient, creds: dict[str, str]) -> list[str]:
    page = (await client.get("/staff?active=true&limit=100", headers=auth(creds))).json()
    return [s["employeeNumber"] for s in page["data"]]


async def test_batches_end_date_nobody_and_completion_end_dates_whom_none_named(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    assert (snapshot["status"], snapshot["batches"], snapshot["endDated"]) == ("open", 0, None)
    first = await post_batch(
        client, admin, EVERYONE[:4], mode="fullSnapshot", snapshot=snapshot["id"]
    )
    assert first.status_code == 200, first.text
    assert (first.json()["snapshot"], first.json()["endDated"]) == (snapshot["id"], 0)
    starter = batch_record("500099")
    second = await client.post(
        f"/staffBatches?mode=fullSnapshot&snapshot={snapshot['id']}",
        content="employeeNumber,givenName,familyName,staffGroup,startDate\r\n"
        + "".join(f"{r['employeeNumber']},Siân,Llŷr,03,01/04/2019\r\n" for r in EVERYONE[4:9])
        + "500099,Dafydd,O'Brien,03,2020-02-29\r\n",
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert second.status_code == 200, second.text
    assert (second.json()["created"], second.json()["endDated"]) == (1, 0)
    assert len(await active_numbers(client, admin)) == 11
    read = (await client.get(f"/staffSnapshots/{snapshot['id']}", headers=auth(admin))).json()
    assert (read["batches"], read["received"]) == (2, 10)

    completed = await complete(client, admin, snapshot["id"])
    assert completed.status_code == 200, completed.text
    assert (completed.json()["status"], completed.json()["endDated"]) == ("completed", 1)
    assert completed.json()["completedAt"] is not None
    active = await active_numbers(client, admin)
    assert "500009" not in active and starter["employeeNumber"] in active
    leaver = (await client.get("/staff/500009", headers=auth(admin))).json()
    assert leaver["endDate"] == (clock.today() - timedelta(days=1)).isoformat()
    events = await settled_event_types(client, admin, {"staffEndDated"})
    assert events == ["staffEndDated"]


async def test_the_guard_refuses_completion_changes_nothing_and_leaves_it_open(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    await post_batch(client, admin, EVERYONE[:5], mode="fullSnapshot", snapshot=snapshot["id"])
    refused = await complete(client, admin, snapshot["id"])
    assert refused.status_code == 409
    assert (refused.json()["wouldEndDate"], refused.json()["activeStaff"]) == (5, 10)
    assert len(await active_numbers(client, admin)) == 10
    read = (await client.get(f"/staffSnapshots/{snapshot['id']}", headers=auth(admin))).json()
    assert read["status"] == "open"
    # The missing batch arrives: now nobody is a leaver.
    await post_batch(client, admin, EVERYONE[5:], mode="fullSnapshot", snapshot=snapshot["id"])
    assert (await complete(client, admin, snapshot["id"])).json()["endDated"] == 0
    assert len(await active_numbers(client, admin)) == 10


async def test_completion_with_allow_mass_leavers_end_dates_them_all(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    await post_batch(client, admin, EVERYONE[:2], mode="fullSnapshot", snapshot=snapshot["id"])
    completed = await complete(client, admin, snapshot["id"], allowMassLeavers="true")
    assert completed.json()["endDated"] == 8
    assert sorted(await active_numbers(client, admin)) == ["500000", "500001"]


async def test_a_completed_snapshot_takes_no_more_batches_and_a_retry_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    await post_batch(client, admin, EVERYONE[:9], mode="fullSnapshot", snapshot=snapshot["id"])
    first = await complete(client, admin, snapshot["id"])
    assert (first.status_code, first.json()["endDated"]) == (200, 1)
    late = await post_batch(
        client, admin, [batch_record("500077")], mode="fullSnapshot", snapshot=snapshot["id"]
    )
    assert late.status_code == 409
    assert late.json()["snapshotStatus"] == "completed"
    assert (await client.get("/staff/500077", headers=auth(admin))).status_code == 404
    await post_batch(client, admin, [batch_record("500009")])  # back again
    retry = await complete(client, admin, snapshot["id"])
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert len(await active_numbers(client, admin)) == 10


async def test_staff_written_since_it_was_opened_are_never_taken_for_leavers(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    await post_batch(client, admin, EVERYONE[:8], mode="fullSnapshot", snapshot=snapshot["id"])
    await post_batch(client, admin, [batch_record("500099"), {**EVERYONE[8], "jobTitle": "Sister"}])
    completed = await complete(client, admin, snapshot["id"])
    assert completed.json()["endDated"] == 1
    assert "500009" not in await active_numbers(client, admin)
    assert {"500008", "500099"} <= set(await active_numbers(client, admin))


async def test_a_snapshot_without_batches_or_opened_a_day_ago_is_not_completed(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = await open_snapshot(client, admin)
    empty = await complete(client, admin, snapshot["id"], allowMassLeavers="true")
    assert (empty.status_code, empty.json()["snapshotStatus"]) == (409, "open")
    await post_batch(client, admin, EVERYONE, mode="fullSnapshot", snapshot=snapshot["id"])
    later = clock.utcnow() + timedelta(hours=25)
    monkeypatch.setattr("app.staff.snapshots.utcnow", lambda: later)
    expired = await complete(client, admin, snapshot["id"])
    assert (expired.status_code, expired.json()["snapshotStatus"]) == (409, "expired")
    part = await post_batch(client, admin, EVERYONE, mode="fullSnapshot", snapshot=snapshot["id"])
    assert part.status_code == 409
    assert len(await active_numbers(client, admin)) == 10


async def test_a_batch_naming_a_snapshot_must_be_a_full_snapshot_of_its_organisation(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    snapshot = await open_snapshot(client, admin)
    upsert = await post_batch(client, admin, EVERYONE, mode="upsert", snapshot=snapshot["id"])
    assert upsert.status_code == 422
    assert [p["name"] for p in upsert.json()["invalidParams"]] == ["snapshot"]
    other = await post_batch(
        client, admin, EVERYONE, mode="fullSnapshot", organisation="7A6", snapshot=snapshot["id"]
    )
    assert other.status_code == 422
    assert [p["name"] for p in other.json()["invalidParams"]] == ["organisation"]
    twice = await client.post(
        f"/staffBatches?snapshot={snapshot['id'] + 1}",
        json={"mode": "fullSnapshot", "records": EVERYONE, "snapshot": snapshot["id"]},
        headers=auth(admin),
    )
    assert twice.status_code == 422
    assert [p["name"] for p in twice.json()["invalidParams"]] == ["snapshot"]
    stray = await post_batch(
        client,
        admin,
        [batch_record("500001"), batch_record("500050", organisation="7A6")],
        mode="fullSnapshot",
        organisation=None,
        snapshot=snapshot["id"],
    )
    assert (stray.json()["created"], stray.json()["unchanged"]) == (0, 1)
    assert [r["row"] for r in stray.json()["rejections"]] == [2]


async def test_a_snapshot_is_its_clients_own_and_within_its_organisations(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    snapshot = await open_snapshot(client, admin)
    other = await make_client(scopes=["staff:read", "staff:write"])
    restricted = await make_client(scopes=["staff:read", "staff:write"], organisations=["7A6"])
    for creds in (other, restricted):
        path = f"/staffSnapshots/{snapshot['id']}"
        assert (await client.get(path, headers=auth(creds))).status_code == 404
        assert (await complete(client, creds, snapshot["id"])).status_code == 404
        batch = await post_batch(
            client, creds, EVERYONE, mode="fullSnapshot", snapshot=snapshot["id"]
        )
        assert batch.status_code == 404
    refused = await client.post(
        "/staffSnapshots", json={"organisation": "7A4"}, headers=auth(restricted)
    )
    assert refused.status_code == 404
    unknown = await client.post(
        "/staffSnapshots", json={"organisation": "7Z9"}, headers=auth(admin)
    )
    assert unknown.status_code == 404
    reader = await make_client(scopes=["staff:read"])
    forbidden = await client.post(
        "/staffSnapshots", json={"organisation": "7A4"}, headers=auth(reader)
    )
    assert forbidden.status_code == 403
    assert len(await active_numbers(client, admin)) == 10


async def test_a_second_open_snapshot_of_an_organisation_is_409_naming_the_open_one(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    first = await open_snapshot(client, admin)
    for creds in (admin, await make_client(scopes=["staff:write"])):
        again = await client.post(
            "/staffSnapshots", json={"organisation": "7A4"}, headers=auth(creds)
        )
        assert again.status_code == 409, again.text
        assert again.json()["openSnapshot"] == first["id"]
        assert f"Staff snapshot {first['id']} of 7A4 is open" in again.json()["detail"]
    await open_snapshot(client, admin, "7A6")  # another organisation's
    await post_batch(client, admin, EVERYONE, mode="fullSnapshot", snapshot=first["id"])
    assert (await complete(client, admin, first["id"])).status_code == 200
    await open_snapshot(client, admin)  # the first one is completed


async def test_a_snapshot_left_open_a_day_expires_and_another_can_be_opened(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    abandoned = await open_snapshot(client, admin)
    later = clock.utcnow() + timedelta(hours=25)
    monkeypatch.setattr("app.staff.snapshots.utcnow", lambda: later)
    path = f"/staffSnapshots/{abandoned['id']}"
    assert (await client.get(path, headers=auth(admin))).json()["status"] == "expired"
    fresh = await open_snapshot(client, admin)
    assert fresh["status"] == "open"
    assert (await client.get(path, headers=auth(admin))).json()["status"] == "expired"
    late = await post_batch(client, admin, EVERYONE, mode="fullSnapshot", snapshot=abandoned["id"])
    assert (late.status_code, late.json()["snapshotStatus"]) == (409, "expired")


async def test_concurrent_opens_of_one_organisation_open_one_snapshot(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The database holds the rule (a partial unique index): on PostgreSQL the opens run side
    by side, each in its own transaction, and all but one wait for it and are refused."""
    answers = await asyncio.gather(
        *(
            client.post("/staffSnapshots", json={"organisation": "7A4"}, headers=auth(admin))
            for _ in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    [opened] = [a.json()["id"] for a in answers if a.status_code == 201]
    assert {a.json()["openSnapshot"] for a in answers if a.status_code == 409} == {opened}


async def test_a_snapshot_takes_at_most_the_configured_number_of_batches(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    configured = app.state.settings
    app.state.settings = configured.model_copy(update={"snapshot_max_batches": 2})
    try:
        snapshot = await open_snapshot(client, admin)
        for part in (EVERYONE[:5], EVERYONE[5:]):
            sent = await post_batch(
                client, admin, part, mode="fullSnapshot", snapshot=snapshot["id"]
            )
            assert sent.status_code == 200, sent.text
        third = await post_batch(
            client, admin, [batch_record("500077")], mode="fullSnapshot", snapshot=snapshot["id"]
        )
    finally:
        app.state.settings = configured
    assert third.status_code == 409
    assert third.json()["maxBatches"] == 2
    assert (await client.get("/staff/500077", headers=auth(admin))).status_code == 404
    read = await client.get(f"/staffSnapshots/{snapshot['id']}", headers=auth(admin))
    assert read.json()["batches"] == 2
    assert (await complete(client, admin, snapshot["id"])).json()["endDated"] == 0
