"""The public keys: a JWK set at /.well-known/jwks.json, each key at the URL its kid names."""

import httpx
from joserfc.jwk import KeySet

from app.core.credential_keys import CredentialKey
from tests.conftest import AppClient
from tests.keys import new_private_key, public_pem

NEW, OLD = new_private_key(), new_private_key()
RING = [
    CredentialKey(kid="2027-01", private_key=NEW),
    CredentialKey(kid="2026-01", public_key=public_pem(OLD)),
]


async def test_the_jwk_set_holds_every_key_of_the_ring_signing_key_first(
    app_client: AppClient,
) -> None:
    async with app_client(credential_signing_keys=RING) as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [
        "http://testserver/credentials/keys/2027-01",
        "http://testserver/credentials/keys/2026-01",
    ]
    assert all(k["alg"] == "ES256" and k["crv"] == "P-256" for k in keys)
    assert all("d" not in k for k in keys), "a private key part is published"
    # Another JOSE library reads the set as published.
    assert len(KeySet.import_key_set({"keys": keys}).keys) == 2


async def test_a_keys_kid_is_a_url_that_answers_that_key(
    app_client: AppClient,
) -> None:
    async with app_client(credential_signing_keys=RING) as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        for key in keys:
            alone = await client.get(key["kid"])
            assert alone.status_code == 200
            assert alone.json() == key


async def test_a_key_the_service_does_not_hold_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/credentials/keys/never-held")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_development_publishes_its_development_key(client: httpx.AsyncClient) -> None:
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in keys] == ["http://testserver/credentials/keys/development"]
