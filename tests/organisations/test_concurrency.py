"""Concurrent PUTs of one organisation: retries stay idempotent, If-Match still prevents lost
updates (on PostgreSQL these requests really overlap)."""

import asyncio

import httpx

from tests.conftest import ClientFactory, auth, read_events

CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
REQUESTS = 6


async def test_concurrent_puts_creating_one_organisation_all_succeed(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    responses = await asyncio.gather(
        *(
            client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
            for _ in range(REQUESTS)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (REQUESTS - 1) + [201], [r.text for r in responses]
    listed = (await client.get("/organisations", headers=auth(creds))).json()["data"]
    assert [o["odsCode"] for o in listed] == ["7A4"]
    feed = await read_events(client, auth(creds))
    assert [e["resourceId"] for e in feed["data"]] == ["7A4"]


async def test_concurrent_updates_with_one_if_match_let_exactly_one_win(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    etag = (await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))).headers[
        "etag"
    ]
    responses = await asyncio.gather(
        *(
            client.put(
                "/organisations/7A4",
                json={**CARDIFF, "name": f"Name {n}"},
                headers={**auth(creds), "If-Match": etag},
            )
            for n in range(REQUESTS)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (REQUESTS - 1), [r.text for r in responses]
    [winner] = [r.json()["name"] for r in responses if r.status_code == 200]
    current = await client.get("/organisations/7A4", headers=auth(creds))
    assert current.json()["name"] == winner
    assert current.headers["etag"] != etag
