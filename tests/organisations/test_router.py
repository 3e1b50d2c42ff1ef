import httpx

from tests.conftest import ClientFactory, auth, read_events

CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}


async def test_put_creates_then_get_returns_it_with_etag(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    created = await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    assert created.status_code == 201
    assert created.headers["location"].endswith("/organisations/7A4")
    fetched = await client.get("/organisations/7A4", headers=auth(creds))
    assert fetched.status_code == 200
    assert fetched.json()["odsCode"] == "7A4"
    assert fetched.json()["name"] == CARDIFF["name"]
    assert fetched.headers["etag"] == created.headers["etag"]


async def test_put_with_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    first = await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    etag = first.headers["etag"]
    renamed = {**CARDIFF, "name": "Renamed"}
    ok = await client.put(
        "/organisations/7A4", json=renamed, headers={**auth(creds), "If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] != etag
    stale = await client.put(
        "/organisations/7A4",
        json={**CARDIFF, "name": "Lost update"},
        headers={**auth(creds), "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    current = await client.get("/organisations/7A4", headers=auth(creds))
    assert current.json()["name"] == "Renamed"


async def test_unchanged_put_writes_no_event(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    again = await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    assert again.status_code == 200
    feed = await read_events(client, auth(creds))
    assert [e["type"] for e in feed["data"]] == ["organisationChanged"]


async def test_restricted_client_gets_404_for_another_organisation(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(admin))
    await client.put(
        "/organisations/7A6",
        json={"name": "Aneurin Bevan", "type": "healthBoard"},
        headers=auth(admin),
    )
    restricted = await make_client(
        scopes=["organisations:read", "organisations:write"], organisations=["7A6"]
    )
    hidden = await client.get("/organisations/7A4", headers=auth(restricted))
    assert hidden.status_code == 404
    assert (await client.get("/organisations/7A6", headers=auth(restricted))).status_code == 200
    write = await client.put("/organisations/7A4", json=CARDIFF, headers=auth(restricted))
    assert write.status_code == 404
    listed = await client.get("/organisations", headers=auth(restricted))
    assert [o["odsCode"] for o in listed.json()["data"]] == ["7A6"]


async def test_invalid_body_names_each_field(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.put(
        "/organisations/7A4",
        json={"name": "", "type": "hospital", "surprise": 1},
        headers=auth(creds),
    )
    assert response.status_code == 422
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert names == {"name", "type", "surprise"}


async def test_unknown_parent_is_422(client: httpx.AsyncClient, make_client: ClientFactory) -> None:
    creds = await make_client()
    response = await client.put(
        "/organisations/7A4", json={**CARDIFF, "parentOdsCode": "ZZZ"}, headers=auth(creds)
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "parentOdsCode"
