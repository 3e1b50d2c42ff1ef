"""HTTP Basic with the client id and secret on /xapi (what LRS clients send), beside Bearer
tokens, with the same scopes."""

import base64
from typing import Any

import httpx

from app.auth import service as auth_service
from tests.completions.xapi_examples import MBOX, V, statement
from tests.conftest import ClientFactory


def basic(creds: dict[str, str], secret: str | None = None) -> dict[str, str]:
    pair = f"{creds['client_id']}:{secret or creds['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode(), **V}


async def test_basic_auth_with_the_client_id_and_secret_posts_and_reads(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await client.post("/xapi/statements", json=statement(MBOX), headers=basic(lms))
    assert response.status_code == 200, response.text
    [statement_id] = response.json()
    read = await client.get(
        "/xapi/statements", params={"statementId": statement_id}, headers=basic(lms)
    )
    assert read.status_code == 200
    assert read.json()["authority"]["account"]["name"] == lms["client_id"]


async def test_basic_auth_with_a_wrong_secret_is_401(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await client.post(
        "/xapi/statements", json=statement(MBOX), headers=basic(lms, "not-the-secret")
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_basic_auth_is_only_for_xapi(client: httpx.AsyncClient, lms: dict[str, str]) -> None:
    response = await client.get("/completions", headers=basic(lms))
    assert response.status_code == 401


async def test_basic_auth_keeps_the_scopes(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    reader = await make_client(scopes=["completions:read"])
    response = await client.post("/xapi/statements", json=statement(MBOX), headers=basic(reader))
    assert response.status_code == 403


async def test_basic_auth_of_a_revoked_client_is_401(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str]
) -> None:
    assert (await client.get("/xapi/statements", headers=basic(lms))).status_code == 200
    async with app.state.sessionmaker() as session:
        await auth_service.revoke_client(session, lms["client_id"])
        await session.commit()
    assert (await client.get("/xapi/statements", headers=basic(lms))).status_code == 401
