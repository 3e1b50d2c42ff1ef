"""Revocation through the W3C Bitstring Status List: revoking an award, directly or by the
cascade after its evidence is retracted, sets its credential's bit, with credentialRevoked."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials.status_lists import LIST_SIZE, encode, is_set, position
from tests.awards.conftest import events_of
from tests.awards.evidence import add_approved_project, evaluate
from tests.conftest import auth
from tests.credentials.conftest import bronze_through_the_api, issued, verified_independently


async def status_bit(client: httpx.AsyncClient, credential: dict[str, Any]) -> bool:
    """Whether the credential is revoked, as a verifier finds out: the list its status names,
    its signature checked with the published keys, the bit at its index."""
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    response = await client.get(status["statusListCredential"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vc+jwt"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    header, payload = verified_independently(response.text, jwks)
    assert header["typ"] == "vc+jwt"
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["issuer"] == credential["issuer"]["id"]
    subject = payload["credentialSubject"]
    assert subject["statusPurpose"] == "revocation"
    return is_set(subject["encodedList"], int(status["statusListIndex"]))


async def test_retracting_the_completion_revokes_bronze_and_silver_credentials(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    completion_id, bronze = await bronze_through_the_api(client, admin)
    await add_approved_project(session, [("100001", "lead")])
    await evaluate(session, "100001")
    awards = (await client.get("/staff/100001/awards", headers=auth(admin))).json()["data"]
    (silver,) = [a["id"] for a in awards if a["level"] == "silver"]
    _, elsewhere = await bronze_through_the_api(client, admin, "200001")
    credentials = {
        award: (await issued(client, admin, award))["credential"]
        for award in (bronze, silver, elsewhere)
    }
    assert [await status_bit(client, c) for c in credentials.values()] == [False] * 3

    retracted = await client.request(
        "DELETE",
        f"/completions/{completion_id}",
        params={"reason": "Recorded in error."},
        headers=auth(admin),
    )
    assert retracted.status_code == 200, retracted.text

    assert [await status_bit(client, c) for c in credentials.values()] == [True, True, False]
    events = await events_of(client, admin, "credentialRevoked", 2)
    assert sorted((e["resourceId"], e["data"]["credentialId"]) for e in events) == sorted(
        (str(award), credentials[award]["id"]) for award in (bronze, silver)
    )


async def test_an_administrators_revocation_sets_the_bit(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    credential = (await issued(client, admin, award_id))["credential"]
    revoked = await client.post(
        f"/awards/{award_id}/revocation", json={"reason": "Wrong person."}, headers=auth(admin)
    )
    assert revoked.status_code == 200
    assert await status_bit(client, credential) is True
    (event,) = await events_of(client, admin, "credentialRevoked")
    assert event["data"]["reason"] == "Wrong person."


async def test_an_award_never_issued_revokes_no_credential(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    await client.post(
        f"/awards/{award_id}/revocation", json={"reason": "Wrong person."}, headers=auth(admin)
    )
    assert await events_of(client, admin, "awardRevoked") != []
    feed = await client.get("/events", params={"types": "credentialRevoked"}, headers=auth(admin))
    assert feed.json()["data"] == []


async def test_a_list_no_credential_is_in_yet_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/credentials/statusLists/1")).status_code == 200
    assert (await client.get("/credentials/statusLists/2")).status_code == 404


def test_a_list_holds_131072_credentials() -> None:
    assert position(1) == (1, 0)
    assert position(LIST_SIZE) == (1, LIST_SIZE - 1)
    assert position(LIST_SIZE + 1) == (2, 0)
    encoded = encode([0, 9, LIST_SIZE - 1])
    assert [i for i in (0, 1, 8, 9, LIST_SIZE - 1) if is_set(encoded, i)] == [0, 9, LIST_SIZE - 1]
