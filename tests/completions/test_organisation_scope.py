"""A platform restricted to some organisations names only their staff (issue 20): when it
records a completion, when HR sends a person later, and in what it may read and retract."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.completions.factories import COMPLETION_SCOPES, completion, post
from tests.completions.xapi_examples import MBOX, send, statement
from tests.conftest import ClientFactory, auth, read_events
from tests.staff.factories import person

NOT_FOUND = "No staff member has this employee number or work e-mail yet."


@pytest.fixture
async def platform_7a4(admin: dict[str, str], make_client: ClientFactory) -> dict[str, str]:
    return await make_client(scopes=COMPLETION_SCOPES, organisations=["7A4"], name="7A4 LMS")


async def _put_person(
    client: httpx.AsyncClient, admin: dict[str, str], number: str, **fields: Any
) -> None:
    response = await client.put(
        f"/staff/{number}", json=person(number, **fields), headers=auth(admin)
    )
    assert response.status_code == 201, response.text


async def _awards(client: httpx.AsyncClient, admin: dict[str, str], number: str) -> list[Any]:
    return list((await client.get(f"/staff/{number}/awards", headers=auth(admin))).json()["data"])


async def _status(client: httpx.AsyncClient, admin: dict[str, str], completion_id: int) -> Any:
    found = (await client.get(f"/completions/{completion_id}", headers=auth(admin))).json()
    return found["matchStatus"], found["matchedEmployeeNumber"]


@pytest.mark.parametrize(
    "naming",
    [{"number": "200007"}, {"number": None, "workEmail": "Eirlys.Bevan@wales.nhs.uk"}],
    ids=["employee number", "work e-mail"],
)
async def test_another_organisations_person_is_nobody_to_a_restricted_platform(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform_7a4: dict[str, str],
    naming: dict[str, Any],
) -> None:
    """The issue's example: a 7A6 person's work e-mail sent by a 7A4 platform was matched,
    answered with their employee number, and granted them Bronze."""
    await _put_person(
        client, admin, "200007", organisation="7A6", workEmail="eirlys.bevan@wales.nhs.uk"
    )
    recorded = await post(client, platform_7a4, completion("cc-7a6", **naming))
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert (body["matchStatus"], body["matchReason"]) == ("unmatched", NOT_FOUND)
    assert body["matchedEmployeeNumber"] is None
    if naming["number"] is None:  # nothing turns the e-mail into an employee number
        assert "200007" not in recorded.text
    assert await _awards(client, admin, "200007") == []


async def test_an_xapi_mbox_of_another_organisations_person_stays_unmatched(
    client: httpx.AsyncClient, admin: dict[str, str], platform_7a4: dict[str, str]
) -> None:
    await _put_person(
        client, admin, "200007", organisation="7A6", workEmail="example.learner@adlnet.gov"
    )
    sent = await send(client, platform_7a4, statement(MBOX))
    assert sent.status_code == 200, sent.text
    [found] = (await client.get("/completions", headers=auth(platform_7a4))).json()["data"]
    assert (found["matchStatus"], found["matchedEmployeeNumber"]) == ("unmatched", None)
    assert await _awards(client, admin, "200007") == []


async def test_an_email_shared_across_organisations_names_the_platforms_own_person(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform: dict[str, str],
    platform_7a4: dict[str, str],
) -> None:
    """Ambiguity is counted among the staff the platform sees: "more than one" would tell a
    restricted platform that someone elsewhere has the address."""
    shared = "on.call.nurse@wales.nhs.uk"
    await _put_person(client, admin, "100007", workEmail=shared)
    await _put_person(client, admin, "200007", organisation="7A6", workEmail=shared)
    own = await post(client, platform_7a4, completion("cc-1", number=None, workEmail=shared))
    assert (own.json()["matchStatus"], own.json()["matchedEmployeeNumber"]) == (
        "matched",
        "100007",
    )
    everyone = await post(client, platform, completion("cc-1", number=None, workEmail=shared))
    assert everyone.json()["matchStatus"] == "unmatched"
    assert "More than one staff member" in everyone.json()["matchReason"]


@pytest.mark.parametrize("by_email", [False, True], ids=["employee number", "work e-mail"])
async def test_a_later_match_stays_within_the_senders_organisations(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform: dict[str, str],
    platform_7a4: dict[str, str],
    by_email: bool,
) -> None:
    """HR sends the person after the completion: a restricted platform's completion is
    matched only to staff of its organisations, an unrestricted one's to anyone."""

    def naming(number: str) -> dict[str, Any]:
        if by_email:
            return {"number": None, "workEmail": f"person{number}@wales.nhs.uk"}
        return {"number": number}

    elsewhere = (await post(client, platform_7a4, completion("a", **naming("200008")))).json()
    own = (await post(client, platform_7a4, completion("b", **naming("100008")))).json()
    anyone = (await post(client, platform, completion("c", **naming("200009")))).json()
    for number, organisation in (("200008", "7A6"), ("100008", "7A4"), ("200009", "7A6")):
        await _put_person(client, admin, number, organisation=organisation)

    assert await _status(client, admin, elsewhere["id"]) == ("unmatched", None)
    assert await _status(client, admin, own["id"]) == ("matched", "100008")
    assert await _status(client, admin, anyone["id"]) == ("matched", "200009")
    assert await _awards(client, admin, "200008") == []
    assert [a["level"] for a in await _awards(client, admin, "100008")] == ["bronze"]


async def test_a_completion_the_platform_cannot_read_it_cannot_retract(
    client: httpx.AsyncClient, admin: dict[str, str], platform_7a4: dict[str, str]
) -> None:
    """The issue's example: 404 on GET, yet DELETE answered 200 with the whole completion."""
    await _put_person(client, admin, "100007")
    recorded = (await post(client, platform_7a4, completion(number="100007"))).json()
    moved = await client.patch("/staff/100007", json={"organisation": "7A6"}, headers=auth(admin))
    assert moved.status_code == 200, moved.text
    url = f"/completions/{recorded['id']}"
    assert (await client.get(url, headers=auth(platform_7a4))).status_code == 404

    refused = await client.delete(f"{url}?reason=Sent%20in%20error", headers=auth(platform_7a4))

    assert refused.status_code == 404
    assert "100007" not in refused.text
    assert (await client.get(url, headers=auth(admin))).json()["status"] == "recorded"
    assert [a["status"] for a in await _awards(client, admin, "100007")] == ["active"]


async def _completion_events(
    client: httpx.AsyncClient, creds: dict[str, str], until_seen: str
) -> set[str]:
    """The completions the client's feed has events of, read once the feed shows
    ``until_seen`` (on PostgreSQL it holds back events while older transactions run)."""
    for _ in range(600):
        body = await read_events(client, auth(creds), limit=1000)
        seen = {e["resourceId"] for e in body["data"] if e["resourceType"] == "completion"}
        if until_seen in seen:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"completion {until_seen} never showed in the feed")


async def test_other_platforms_unmatched_completions_are_not_in_the_feed(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    """The issue's example: every client saw every platform's unmatched completionRecorded
    events (client id, completion id, course, time)."""
    scopes = [*COMPLETION_SCOPES, "events:read"]
    other = await make_client(scopes=scopes, organisations=["7A6"], name="7A6 LMS")
    reader = await make_client(scopes=scopes, organisations=["7A4"], name="7A4 LMS")
    theirs = (await post(client, other, completion("theirs", number="299998"))).json()
    ours = (await post(client, reader, completion("ours", number="199998"))).json()
    assert theirs["matchStatus"] == ours["matchStatus"] == "unmatched"

    seen = await _completion_events(client, reader, until_seen=str(ours["id"]))

    assert str(theirs["id"]) not in seen
    assert str(theirs["id"]) in await _completion_events(client, other, str(theirs["id"]))
    assert {str(theirs["id"]), str(ours["id"])} <= await _completion_events(
        client, admin, str(ours["id"])
    )
