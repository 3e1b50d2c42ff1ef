"""POST /oauth2/token: the RFC 6749 §4.4 client credentials grant."""

import threading
from typing import Any

import httpx
import jwt
import pytest

from app.auth import service as auth_service
from app.auth.service import revoke_client
from app.core.settings import Settings
from tests.conftest import ClientFactory

GRANT = {"grant_type": "client_credentials"}


async def _token(client: httpx.AsyncClient, **kwargs: Any) -> httpx.Response:
    return await client.post("/oauth2/token", **kwargs)


def _claims(settings: Settings, token: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        settings.token_signing_key,
        algorithms=["HS256"],
        audience=settings.token_audience,
        issuer=settings.token_issuer,
    )


async def test_form_body_credentials_issue_a_bearer_token(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    creds = await make_client(scopes=["organisations:read", "events:read"])
    response = await _token(
        client,
        data={
            **GRANT,
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 3600
    assert body["scope"].split() == ["events:read", "organisations:read"]
    claims = _claims(settings, body["access_token"])
    assert claims["sub"] == creds["client_id"]
    assert claims["exp"] - claims["iat"] == body["expires_in"]


async def test_http_basic_credentials_issue_a_token(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    response = await _token(client, data=GRANT, auth=(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 200
    assert response.json()["scope"] == "organisations:read"


async def test_token_response_is_not_cacheable(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await _token(client, data=GRANT, auth=(creds["client_id"], creds["client_secret"]))
    assert response.headers["cache-control"] == "no-store"


async def test_issued_token_is_accepted_by_the_api(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    token = (
        await _token(client, data=GRANT, auth=(creds["client_id"], creds["client_secret"]))
    ).json()["access_token"]
    response = await client.get("/organisations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_requested_scope_subset_is_granted_and_no_more(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read", "organisations:write"])
    response = await _token(
        client,
        data={**GRANT, "scope": "organisations:read"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "organisations:read"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await client.get("/organisations", headers=headers)).status_code == 200
    write = await client.put(
        "/organisations/7A4", json={"name": "Cardiff", "type": "healthBoard"}, headers=headers
    )
    assert write.status_code == 403


@pytest.mark.parametrize(
    "secret",
    [pytest.param("wrong-secret", id="wrong-secret"), pytest.param("", id="empty-secret")],
)
async def test_wrong_secret_is_invalid_client_401(
    client: httpx.AsyncClient, make_client: ClientFactory, secret: str
) -> None:
    creds = await make_client()
    response = await _token(
        client, data={**GRANT, "client_id": creds["client_id"], "client_secret": secret}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


async def test_unknown_client_is_invalid_client_401(client: httpx.AsyncClient) -> None:
    response = await _token(client, data=GRANT, auth=("iqt_nobody", "secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" in response.headers


async def test_malformed_basic_header_is_invalid_client_401(client: httpx.AsyncClient) -> None:
    response = await _token(client, data=GRANT, headers={"Authorization": "Basic !!not-base64"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


async def test_revoked_client_gets_no_token(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any
) -> None:
    creds = await make_client()
    async with app.state.sessionmaker() as session:
        await revoke_client(session, creds["client_id"])
        await session.commit()
    response = await _token(client, data=GRANT, auth=(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_scope_the_client_does_not_hold_is_invalid_scope_400(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    response = await _token(
        client,
        data={**GRANT, "scope": "organisations:read audit:read"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "audit:read" in response.json()["error_description"]


async def test_unsupported_grant_type_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await _token(
        client,
        data={"grant_type": "password", "username": "a", "password": "b"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "unsupported_grant_type"


async def test_missing_grant_type_is_invalid_request_400(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await _token(client, data={}, auth=(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.fixture
def secret_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread each client secret check ran in (the check still runs)."""
    threads: list[str] = []
    real = auth_service._secret_matches

    def noting(*args: Any) -> bool:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(auth_service, "_secret_matches", noting)
    return threads


async def test_unknown_and_known_client_ids_cost_one_secret_check_each(
    client: httpx.AsyncClient, make_client: ClientFactory, secret_checks: list[str]
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    for client_id in ("iqt_no_such_client", creds["client_id"]):
        response = await _token(client, data=GRANT, auth=(client_id, "wrong secret"))
        assert response.status_code == 401
    assert len(secret_checks) == 2


async def test_secret_checks_run_off_the_event_loop(
    client: httpx.AsyncClient, make_client: ClientFactory, secret_checks: list[str]
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    response = await _token(client, data=GRANT, auth=(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 200
    loop_thread = threading.current_thread().name
    assert secret_checks and all(name != loop_thread for name in secret_checks)
