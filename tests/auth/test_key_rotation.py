"""Rotating the token-signing key (IQT_TOKEN_SIGNING_KEYS): tokens signed by a key the service
still holds keep working; a key it does not hold, or no longer holds, is refused."""

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from app.auth.tokens import issue_token
from app.core.settings import DEVELOPMENT_SIGNING_KEY, Settings
from app.main import create_app
from tests.conftest import ClientFactory
from tests.keys import PRODUCTION_CREDENTIAL_KEYS

OLD = "old-signing-key-" + secrets.token_hex(16)
NEW = "new-signing-key-" + secrets.token_hex(16)


def _keyed(settings: Settings, **keys: Any) -> Settings:
    """The test settings with other token keys, read as the service reads its environment."""
    values = settings.model_dump(exclude={"token_signing_key", "token_signing_keys"})
    return Settings(**values, **keys, _env_file=None)  # type: ignore[arg-type]


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A process of the service on the test database, configured with ``settings``."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.engine.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _organisations(settings: Settings, token: str) -> int:
    async with _serving(settings) as client:
        return (await client.get("/organisations", headers=_bearer(token))).status_code


async def test_a_token_signed_by_the_previous_key_still_verifies(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    before = _keyed(settings, token_signing_key=OLD)
    token = issue_token(before, creds["client_id"], ["organisations:read"], None)
    rotated = _keyed(settings, token_signing_keys=f"2027-01:{NEW},default:{OLD}")

    assert await _organisations(before, token) == 200
    assert await _organisations(rotated, token) == 200


async def test_the_newest_key_signs_and_names_itself(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = _keyed(settings, token_signing_keys=f"2027-01:{NEW},default:{OLD}")
    async with _serving(rotated) as client:
        response = await client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(creds["client_id"], creds["client_secret"]),
        )
    token = response.json()["access_token"]

    assert jwt.get_unverified_header(token)["kid"] == "2027-01"
    jwt.decode(token, NEW, algorithms=["HS256"], audience=settings.token_audience)
    assert await _organisations(rotated, token) == 200
    # Every process still on the old key alone refuses it: roll the new key out as a verifying
    # key first (docs/operations.md).
    assert await _organisations(_keyed(settings, token_signing_key=OLD), token) == 401


async def test_a_token_naming_an_unknown_kid_is_refused(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = _keyed(settings, token_signing_keys=f"2027-01:{NEW},default:{OLD}")
    stranger = _keyed(settings, token_signing_keys=f"stolen:{'s' * 40}")
    token = issue_token(stranger, creds["client_id"], ["organisations:read"], None)

    assert await _organisations(rotated, token) == 401


async def test_a_token_naming_a_held_kid_but_signed_by_another_key_is_refused(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    rotated = _keyed(settings, token_signing_keys=f"2027-01:{NEW},default:{OLD}")
    forged = _keyed(settings, token_signing_keys=f"2027-01:{OLD}")
    token = issue_token(forged, creds["client_id"], ["organisations:read"], None)

    assert await _organisations(rotated, token) == 401


async def test_a_key_removed_from_the_ring_stops_verifying_its_tokens(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    token = issue_token(
        _keyed(settings, token_signing_key=OLD), creds["client_id"], ["organisations:read"], None
    )
    rotated = _keyed(settings, token_signing_keys=f"n:{NEW},default:{OLD}")
    assert await _organisations(rotated, token) == 200  # checked once, and remembered

    assert await _organisations(_keyed(settings, token_signing_keys=f"n:{NEW}"), token) == 401


async def test_a_key_past_its_verify_until_stops_verifying_its_tokens(
    make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(["organisations:read"])
    token = issue_token(
        _keyed(settings, token_signing_key=OLD), creds["client_id"], ["organisations:read"], None
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()

    def ring(until: str) -> Settings:
        keys = [
            {"kid": "n", "secret": NEW},
            {"kid": "default", "secret": OLD, "verifyUntil": until},
        ]
        return _keyed(settings, token_signing_keys=json.dumps(keys))

    assert await _organisations(ring(later), token) == 200
    assert await _organisations(ring(earlier), token) == 401


def test_one_signing_key_is_a_ring_of_one_named_default() -> None:
    settings = Settings(token_signing_key=OLD, _env_file=None)  # type: ignore[call-arg]
    [key] = settings.token_keys
    assert (key.kid, key.secret) == ("default", OLD)


@pytest.mark.parametrize(
    "keys",
    [
        f"a:{NEW},b:{OLD}",
        json.dumps([f"a:{NEW}", f"b:{OLD}"]),
        json.dumps([{"kid": "a", "secret": NEW}, {"kid": "b", "secret": OLD}]),
    ],
)
def test_the_keys_are_read_from_the_environment_in_either_form(
    keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in os.environ:
        if name.startswith("IQT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IQT_ENVIRONMENT", "production")
    monkeypatch.setenv("IQT_TOKEN_SIGNING_KEYS", keys)
    monkeypatch.setenv("IQT_CREDENTIAL_SIGNING_KEYS", PRODUCTION_CREDENTIAL_KEYS)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [(k.kid, k.secret) for k in settings.token_keys] == [("a", NEW), ("b", OLD)]
    # Page tokens and the like sign with the signing key, never the development one.
    assert settings.token_signing_key == NEW


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"token_signing_key": OLD, "token_signing_keys": f"a:{NEW}"}, "not both"),
        ({"token_signing_keys": f"a:{NEW},a:{OLD}"}, "twice"),
        ({"token_signing_keys": NEW}, "kid:secret"),
        ({"token_signing_keys": f"a:{NEW},b:short"}, "at least 32"),
        ({"token_signing_keys": f"a:{NEW},b:{DEVELOPMENT_SIGNING_KEY}"}, "at least 32"),
        ({"token_signing_keys": f"bad kid:{NEW}"}, "kid"),
        (
            {
                "token_signing_keys": json.dumps(
                    [{"kid": "a", "secret": NEW, "verifyUntil": "2030-01-01T00:00:00Z"}]
                )
            },
            "cannot expire",
        ),
    ],
)
def test_a_key_ring_that_cannot_work_is_refused(values: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(environment="production", **values, _env_file=None)  # type: ignore[arg-type]
