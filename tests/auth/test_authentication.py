"""Bearer tokens on the API: every way a token is refused (401), and a missing scope (403)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from app.auth.scopes import ALL_SCOPES
from app.auth.service import revoke_client
from app.core.settings import Settings
from tests.conftest import ClientFactory, auth


def _claims(settings: Settings, client_id: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=10),
        "scope": " ".join(sorted(ALL_SCOPES)),
        "organisations": None,
    }
    claims.update(overrides)
    return claims


def _mint(settings: Settings, client_id: str, key: str | None = None, **overrides: Any) -> str:
    return jwt.encode(
        _claims(settings, client_id, **overrides),
        key or settings.token_signing_key,
        algorithm="HS256",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda v: int(v.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_a_minted_valid_token_is_accepted(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    """The control for the refusals below: the same minting, nothing wrong with it."""
    creds = await make_client()
    token = _mint(settings, creds["client_id"])
    assert (await client.get("/organisations", headers=_bearer(token))).status_code == 200


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    _assert_401(await client.get("/organisations"))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token abc"])
async def test_authorization_that_is_not_a_bearer_token_is_401(
    client: httpx.AsyncClient, header: str
) -> None:
    _assert_401(await client.get("/organisations", headers={"Authorization": header}))


async def test_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    _assert_401(await client.get("/organisations", headers=_bearer("not-a-jwt")))


async def test_expired_token_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    issued = datetime.now(UTC) - timedelta(hours=2)
    token = _mint(
        settings, creds["client_id"], iat=issued, nbf=issued, exp=issued + timedelta(hours=1)
    )
    response = await client.get("/organisations", headers=_bearer(token))
    _assert_401(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_signed_with_another_key_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    token = _mint(settings, creds["client_id"], key="someone-elses-key-0123456789abcdef01")
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


async def test_token_with_tampered_claims_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    """A real signature over a restricted token, with the organisation restriction removed."""
    creds = await make_client(organisations=["7A6"])
    header, _, signature = _mint(settings, creds["client_id"], organisations=["7A6"]).split(".")
    widened = _b64(_claims(settings, creds["client_id"], organisations=None))
    _assert_401(
        await client.get("/organisations", headers=_bearer(f"{header}.{widened}.{signature}"))
    )


async def test_token_with_a_flipped_signature_byte_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    header, payload, signature = _mint(settings, creds["client_id"]).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    _assert_401(await client.get("/organisations", headers=_bearer(f"{header}.{payload}.{forged}")))


async def test_unsigned_alg_none_token_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    token = jwt.encode(_claims(settings, creds["client_id"]), key=None, algorithm="none")
    assert jwt.get_unverified_header(token)["alg"] == "none"
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


async def test_token_for_another_audience_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    token = _mint(settings, creds["client_id"], aud="some-other-api")
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


async def test_token_from_another_issuer_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client()
    token = _mint(settings, creds["client_id"], iss="https://elsewhere.example")
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


@pytest.mark.parametrize("claim", ["exp", "sub", "aud", "iss"])
async def test_token_missing_a_required_claim_is_401(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings, claim: str
) -> None:
    creds = await make_client()
    claims = _claims(settings, creds["client_id"])
    del claims[claim]
    token = jwt.encode(claims, settings.token_signing_key, algorithm="HS256")
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


async def test_token_of_an_unknown_client_is_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = _mint(settings, "iqt_never_created")
    _assert_401(await client.get("/organisations", headers=_bearer(token)))


async def test_revoked_clients_token_stops_working_at_once(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any
) -> None:
    creds = await make_client()
    assert (await client.get("/organisations", headers=auth(creds))).status_code == 200
    async with app.state.sessionmaker() as session:
        await revoke_client(session, creds["client_id"])
        await session.commit()
    _assert_401(await client.get("/organisations", headers=auth(creds)))


async def test_token_in_the_query_string_is_refused(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    token = creds["Authorization"].removeprefix("Bearer ")
    response = await client.get("/organisations", params={"access_token": token})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert response.json()["invalidParams"][0]["name"] == "access_token"


async def test_token_in_the_query_string_is_refused_however_its_name_is_encoded(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    """The query string is parsed only when there is one: any spelling of the name that
    parses to access_token is refused, not only the literal bytes."""
    creds = await make_client()
    token = creds["Authorization"].removeprefix("Bearer ")
    for name in ("access%5Ftoken", "%61ccess_token", "access_token"):
        response = await client.get(f"/organisations?x=1&{name}={token}", headers=auth(creds))
        assert response.status_code == 400, name
        assert response.json()["invalidParams"][0]["name"] == "access_token"
    assert (await client.get("/organisations", headers=auth(creds))).status_code == 200


async def test_token_in_the_query_string_is_refused_even_with_a_valid_header(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    token = creds["Authorization"].removeprefix("Bearer ")
    response = await client.get(
        "/organisations", params={"access_token": token}, headers=auth(creds)
    )
    assert response.status_code == 400


async def test_valid_token_without_the_scope_is_403(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["events:read"])
    response = await client.get("/organisations", headers=auth(creds))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "organisations:read" in response.json()["detail"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_scope_in_the_token_but_not_held_by_the_client_is_403(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    """A token only grants what its client still holds."""
    creds = await make_client(scopes=["events:read"])
    token = _mint(settings, creds["client_id"], scope="events:read organisations:read")
    response = await client.get("/organisations", headers=_bearer(token))
    assert response.status_code == 403
