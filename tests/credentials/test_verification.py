"""POST /credentials/verify (public): good, tampered, expired, revoked and foreign credentials,
and earlier credentials still verifying after the signing key is rotated."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.awards.facts import Level
from app.awards.rules_document import DEFAULT_RULES
from app.core.credential_keys import DEVELOPMENT_CREDENTIAL_KEY, CredentialKey
from app.credentials.achievements import CredentialUrls, achievement
from app.credentials.credential import CredentialFacts, build_credential
from app.credentials.signing import sign
from tests.conftest import AppClient, ClientFactory, auth
from tests.credentials.conftest import bronze_through_the_api, issued
from tests.keys import new_private_key, public_pem
from tests.staff.factories import person, seed_organisations

URLS = CredentialUrls("http://testserver")
DEVELOPMENT = CredentialKey(kid="development", private_key=DEVELOPMENT_CREDENTIAL_KEY)


def decoded(part: str) -> dict[str, Any]:
    """A JWS header or payload segment, read without checking anything."""
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


async def verify(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    response = await client.post("/credentials/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def signed_elsewhere(issued_at: datetime, validity: timedelta | None) -> str:
    """A credential made and signed with the service's own code and key, as of then."""
    facts = CredentialFacts(
        row_id=1,
        credential_uuid="0b6f3d52-3c1e-4f6a-9a57-2f4d1e8c9b10",
        subject_uuid="5c2a9e7d-81f4-4b0c-a3d6-7e1f2b9c4d58",
        salt="00",
        work_email="someone@wales.nhs.uk",
        attained_at=issued_at,
        achievement=achievement(URLS, "IQT", Level.BRONZE, DEFAULT_RULES, 1),
    )
    credential = build_credential(URLS, "IQT", facts, issued_at=issued_at, validity=validity)
    return sign(credential, DEVELOPMENT, URLS, issued_at)


async def test_a_credential_as_issued_verifies(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    body = await issued(client, admin, award_id)
    result = await verify(client, body["credentialJwt"])
    assert result["verified"] is True and result["failure"] is None
    assert result["credential"] == body["credential"]


async def test_a_tampered_credential_fails_on_its_signature(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    token = (await issued(client, admin, award_id))["credentialJwt"]
    head, payload, signature = token.split(".")
    claims = decoded(payload)
    claims["credentialSubject"]["achievement"]["name"] = "IQT Gold"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    result = await verify(client, f"{head}.{forged}.{signature}")
    assert (result["verified"], result["failure"]) == (False, "signature")
    assert result["credential"] is None


async def test_an_expired_credential_fails_as_expired(client: httpx.AsyncClient) -> None:
    token = signed_elsewhere(datetime(2020, 1, 1, tzinfo=UTC), timedelta(days=30))
    result = await verify(client, token)
    assert (result["verified"], result["failure"]) == (False, "expired")


async def test_a_credential_this_service_never_issued_fails(client: httpx.AsyncClient) -> None:
    token = signed_elsewhere(datetime(2025, 1, 1, tzinfo=UTC), None)
    result = await verify(client, token)
    assert (result["verified"], result["failure"]) == (False, "notIssued")


async def test_a_revoked_credential_fails_as_revoked(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    token = (await issued(client, admin, award_id))["credentialJwt"]
    await client.post(
        f"/awards/{award_id}/revocation", json={"reason": "Wrong person."}, headers=auth(admin)
    )
    result = await verify(client, token)
    assert (result["verified"], result["failure"]) == (False, "revoked")


async def test_a_credential_signed_by_another_key_under_our_kid_fails(
    client: httpx.AsyncClient,
) -> None:
    impostor = CredentialKey(kid="development", private_key=new_private_key())
    facts_token = signed_elsewhere(datetime(2025, 1, 1, tzinfo=UTC), None)
    head, payload, _ = facts_token.split(".")
    other = sign(
        decoded(payload),
        impostor,
        URLS,
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert other.split(".")[0] == head
    result = await verify(client, other)
    assert (result["verified"], result["failure"]) == (False, "signature")


async def test_what_is_not_a_vc_jwt_fails_as_malformed(client: httpx.AsyncClient) -> None:
    result = await verify(client, "not.a.jwt")
    assert (result["verified"], result["failure"]) == (False, "malformed")


async def test_a_body_without_a_credential_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/credentials/verify", json={"credentials": "x"})
    assert response.status_code == 422
    assert "credential" in [p["name"] for p in response.json()["invalidParams"]]


async def test_key_rotation_keeps_an_earlier_credential_verifiable(
    app_client: AppClient,
    make_client: ClientFactory,
) -> None:
    old, new = new_private_key(), new_private_key()
    before = [CredentialKey(kid="2026-01", private_key=old)]
    after = [
        CredentialKey(kid="2027-01", private_key=new),
        CredentialKey(kid="2026-01", public_key=public_pem(old)),
    ]
    async with app_client(credential_signing_keys=before) as client:
        creds = await make_client()
        await seed_organisations(client, creds)
        await client.put("/staff/100001", json=person("100001"), headers=auth(creds))
        _, award_id = await bronze_through_the_api(client, creds)
        earlier = (await issued(client, creds, award_id))["credentialJwt"]
    async with app_client(credential_signing_keys=after) as client:
        assert (await verify(client, earlier))["verified"] is True
        later = (await issued(client, creds, award_id))["credentialJwt"]
        assert decoded(later.split(".")[0])["kid"].endswith("/credentials/keys/2027-01")
        assert (await verify(client, later))["verified"] is True
    async with app_client(credential_signing_keys=after[:1]) as client:
        assert (await verify(client, earlier))["failure"] == "unknownKey"
