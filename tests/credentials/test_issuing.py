"""GET /awards/{awardId}/credential: a signed OpenBadgeCredential of an active award, valid
against 1EdTech's schema, verified by another JOSE library, naming nobody in plain text."""

import base64
import hashlib

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.awards.conftest import events_of
from tests.awards.evidence import add_approved_project, add_staff, evaluate
from tests.conftest import AppClient, ClientFactory, auth
from tests.credentials.conftest import (
    JWT_CLAIMS,
    bronze_through_the_api,
    issued,
    ob_validator,
    schema_errors,
    verified_independently,
)
from tests.staff.factories import seed_organisations


async def test_an_award_is_issued_as_a_signed_credential_valid_against_the_ob_schema(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    body = await issued(client, admin, award_id)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    header, payload = verified_independently(body["credentialJwt"], jwks)
    assert header == {
        "alg": "ES256",
        "typ": "JWT",
        "kid": "http://testserver/credentials/keys/development",
    }
    credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    assert credential == body["credential"]
    validator = ob_validator()
    assert schema_errors(validator, credential) == []
    assert payload["iss"] == credential["issuer"]["id"] == "http://testserver/credentials/issuer"
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    assert credential["validFrom"] == credential["awardedDate"] == "2026-03-04T10:15:00Z"
    assert "validUntil" not in credential and "exp" not in payload
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"] == "http://testserver/credentials/achievements/bronze"
    assert [(e["name"], e["description"]) for e in credential["evidence"]] == [
        ("IQT Bronze e-learning", "Completed the course on 2026-03-04.")
    ]


async def test_the_earner_is_named_by_a_salted_hash_of_their_work_email_only(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    body = await issued(client, admin, award_id)
    (identity,) = body["credential"]["credentialSubject"]["identifier"]
    email = "person100001@wales.nhs.uk"
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    expected = hashlib.sha256((email + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    for plain in (email, "100001", "Siân", "Llŷr"):
        assert plain not in str(body["credential"]), plain
    encoded_payload = body["credentialJwt"].split(".")[1]
    decoded = base64.urlsafe_b64decode(encoded_payload + "=" * (-len(encoded_payload) % 4))
    assert email.encode() not in decoded


async def test_one_credential_per_award_issued_once_and_the_same_every_time(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    first = (await issued(client, admin, award_id))["credential"]
    again = (await issued(client, admin, award_id))["credential"]
    assert again == first
    events = await events_of(client, admin, "credentialIssued")
    assert [(e["resourceId"], e["data"]["credentialId"]) for e in events] == [
        (str(award_id), first["id"])
    ]
    assert events[0]["data"]["level"] == "bronze"


async def test_a_silver_credential_names_the_project_but_nobody_else_on_it(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002")
    await bronze_through_the_api(client, admin)
    await add_approved_project(session, [("100001", "lead"), ("100002", "mentor")])
    await evaluate(session, "100001")
    awards = (await client.get("/staff/100001/awards", headers=auth(admin))).json()["data"]
    (silver,) = [a["id"] for a in awards if a["level"] == "silver"]
    credential = (await issued(client, admin, silver))["credential"]
    assert schema_errors(ob_validator(), credential) == []
    assert [(e["name"], e["description"]) for e in credential["evidence"]] == [
        ("Fewer missed insulin doses", "Outcome: worse. Approved on review on 2026-03-11.")
    ]
    for someone_else in ("100002", "person100002@wales.nhs.uk"):
        assert someone_else not in str(credential)


async def test_reads_are_audited_as_personal_data(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    await issued(client, admin, award_id)
    records = await client.get(
        "/auditRecords",
        params={"resourceType": "awardCredential", "resourceId": str(award_id)},
        headers=auth(admin),
    )
    assert [(r["action"], r["organisation"], r["outcome"]) for r in records.json()["data"]] == [
        ("read", "7A4", "success")
    ]


async def test_another_organisations_award_has_no_credential_for_a_restricted_client(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    elsewhere = await make_client(scopes=["awards:read"], organisations=["7A6"])
    hidden = await client.get(f"/awards/{award_id}/credential", headers=auth(elsewhere))
    missing = await client.get("/awards/999999999/credential", headers=auth(elsewhere))
    assert hidden.status_code == missing.status_code == 404
    own = await make_client(scopes=["awards:read"], organisations=["7A4"])
    assert (
        await client.get(f"/awards/{award_id}/credential", headers=auth(own))
    ).status_code == 200
    assert await events_of(client, admin, "credentialIssued") != []


async def test_a_revoked_award_has_no_credential_to_issue(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, award_id = await bronze_through_the_api(client, admin)
    revoked = await client.post(
        f"/awards/{award_id}/revocation", json={"reason": "Wrong person."}, headers=auth(admin)
    )
    assert revoked.status_code == 200
    response = await client.get(f"/awards/{award_id}/credential", headers=auth(admin))
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]


async def test_a_validity_period_gives_the_credential_an_expiry(
    app_client: AppClient,
    make_client: ClientFactory,
) -> None:
    async with app_client(credential_validity_days=365) as client:
        creds = await make_client()
        await seed_organisations(client, creds)
        await add_staff(client, creds, "100001")
        _, award_id = await bronze_through_the_api(client, creds)
        body = await issued(client, creds, award_id)
        jwks = (await client.get("/.well-known/jwks.json")).json()
    _, payload = verified_independently(body["credentialJwt"], jwks)
    assert payload["exp"] - payload["iat"] == 365 * 86_400
    assert schema_errors(ob_validator(), body["credential"]) == []
