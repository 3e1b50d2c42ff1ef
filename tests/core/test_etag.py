"""ETags and If-Match, shown on PUT /organisations/{odsCode}. (A stale If-Match is covered in
tests/organisations/test_router.py.)"""

import httpx
import pytest

from tests.conftest import ClientFactory, auth

CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
RENAMED = {**CARDIFF, "name": "Renamed"}


async def _created(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.put("/organisations/7A4", json=CARDIFF, headers=headers)
    assert response.status_code == 201
    return response.headers["etag"]


async def _name(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get("/organisations/7A4", headers=headers)).json()["name"])


async def test_etag_is_strong_and_changes_with_each_update(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    first = await _created(client, auth(creds))
    assert first.startswith('"')
    second = await client.put("/organisations/7A4", json=RENAMED, headers=auth(creds))
    assert second.headers["etag"] not in (first, "")


async def test_if_match_star_updates_an_existing_organisation(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await _created(client, auth(creds))
    response = await client.put(
        "/organisations/7A4", json=RENAMED, headers={**auth(creds), "If-Match": "*"}
    )
    assert response.status_code == 200
    assert await _name(client, auth(creds)) == "Renamed"


async def test_if_match_listing_the_current_etag_among_others_is_accepted(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    etag = await _created(client, auth(creds))
    response = await client.put(
        "/organisations/7A4",
        json=RENAMED,
        headers={**auth(creds), "If-Match": f'"41", {etag}, "42"'},
    )
    assert response.status_code == 200


async def test_weak_form_of_the_current_etag_is_accepted(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    """Proxies that compress responses weaken ETags; the version it names is still the same."""
    creds = await make_client()
    etag = await _created(client, auth(creds))
    response = await client.put(
        "/organisations/7A4", json=RENAMED, headers={**auth(creds), "If-Match": f"W/{etag}"}
    )
    assert response.status_code == 200


async def test_weak_form_of_a_stale_etag_is_412(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    etag = await _created(client, auth(creds))
    await client.put("/organisations/7A4", json=RENAMED, headers=auth(creds))
    response = await client.put(
        "/organisations/7A4",
        json={**CARDIFF, "name": "Lost update"},
        headers={**auth(creds), "If-Match": f"W/{etag}"},
    )
    assert response.status_code == 412
    assert await _name(client, auth(creds)) == "Renamed"


async def test_412_names_the_current_etag(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    etag = await _created(client, auth(creds))
    response = await client.put(
        "/organisations/7A4", json=RENAMED, headers={**auth(creds), "If-Match": '"99"'}
    )
    assert response.status_code == 412
    assert response.json()["type"].endswith("/precondition-failed")
    assert response.json()["currentETag"] == etag


@pytest.mark.parametrize("tag", ['"0"', '"1"', 'W/"0"'])
async def test_if_match_with_a_tag_for_a_missing_organisation_is_412_and_creates_nothing(
    client: httpx.AsyncClient, make_client: ClientFactory, tag: str
) -> None:
    creds = await make_client()
    response = await client.put(
        "/organisations/7A4", json=CARDIFF, headers={**auth(creds), "If-Match": tag}
    )
    assert response.status_code == 412
    assert (await client.get("/organisations/7A4", headers=auth(creds))).status_code == 404


async def test_if_match_star_on_a_missing_resource_is_412_and_creates_nothing(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    body = {"name": "Powys Teaching Health Board", "type": "healthBoard"}
    response = await client.put(
        "/organisations/7A7", json=body, headers={**auth(creds), "If-Match": "*"}
    )
    assert response.status_code == 412
    assert (await client.get("/organisations/7A7", headers=auth(creds))).status_code == 404
