from typing import Any

import httpx

from tests.completions.conftest import AwardCalls
from tests.completions.factories import COMPLETION_SCOPES, completion, count_events, events_of, post
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person


async def _recorded(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> Any:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    return (await post(client, platform, completion())).json()


async def test_the_sender_retracts_with_a_reason_and_it_stays_readable(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    sent = await _recorded(client, admin, platform)
    response = await client.delete(
        f"/completions/{sent['id']}?reason=Recorded in error", headers=auth(platform)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["retractionReason"]) == ("retracted", "Recorded in error")
    assert body["retractedAt"] is not None
    read = await client.get(f"/completions/{sent['id']}", headers=auth(platform))
    assert read.json()["status"] == "retracted"
    [event] = await events_of(app, "completionRetracted")
    assert (event.resource_id, event.organisation_ods_code) == (str(sent["id"]), "7A4")
    assert event.data["reason"] == "Recorded in error"
    assert len(award_calls.calls) == 2  # recorded, then retracted


async def test_the_reason_may_come_in_the_body(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    sent = await _recorded(client, admin, platform)
    response = await client.request(
        "DELETE",
        f"/completions/{sent['id']}",
        json={"reason": "Duplicate of cc-0"},
        headers=auth(platform),
    )
    assert response.json()["retractionReason"] == "Duplicate of cc-0"


async def test_a_retraction_without_a_reason_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    sent = await _recorded(client, admin, platform)
    response = await client.delete(f"/completions/{sent['id']}", headers=auth(platform))
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "reason"


async def test_retracting_twice_writes_one_event(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    sent = await _recorded(client, admin, platform)
    for reason in ("first", "second"):
        response = await client.delete(
            f"/completions/{sent['id']}?reason={reason}", headers=auth(platform)
        )
        assert response.status_code == 200
    assert response.json()["retractionReason"] == "first"
    assert await count_events(app, "completionRetracted") == 1


async def test_another_platform_cannot_retract_it(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    make_client: ClientFactory,
) -> None:
    sent = await _recorded(client, admin, platform)
    other = await make_client(scopes=COMPLETION_SCOPES, organisations=["7A4"], name="Totara")
    response = await client.delete(f"/completions/{sent['id']}?reason=no", headers=auth(other))
    assert response.status_code == 404
    # It may read it (its organisation's), but not retract what it did not send.
    assert (await client.get(f"/completions/{sent['id']}", headers=auth(other))).status_code == 200
    assert (await client.get(f"/completions/{sent['id']}", headers=auth(platform))).json()[
        "status"
    ] == "recorded"
    assert await count_events(app, "completionRetracted") == 0


async def test_an_unrestricted_client_with_write_may_retract(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    sent = await _recorded(client, admin, platform)
    response = await client.delete(f"/completions/{sent['id']}?reason=QI team", headers=auth(admin))
    assert response.status_code == 200
    assert response.json()["status"] == "retracted"


async def test_an_unknown_completion_is_404(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    assert (
        await client.delete("/completions/999?reason=x", headers=auth(platform))
    ).status_code == 404
