"""OWASP API5 (broken function level authorisation): every operation but a short public list
states the scopes it needs, and a client holding none of them is refused (403), as is a request
without a token (401). Driven by the route table, so a new route is checked the day it lands."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ClientFactory, auth
from tests.security.routes import operations

# Answered without a bearer token, and why.
PUBLIC = {
    ("POST", "/oauth2/token"): "Where a token is obtained: the client authenticates with its "
    "id and secret (form or HTTP Basic), rate-limited per client id and per address.",
    ("GET", "/_ping"): "Liveness for load balancers: the version only.",
    ("GET", "/_status"): "Readiness for orchestrators: database reachable and migrated.",
    ("GET", "/docs"): "Interactive documentation of the public contract (off in production).",
    ("GET", "/redoc"): "The same documentation, another viewer (off in production).",
    ("GET", "/xapi/about"): "The xAPI versions supported, which xAPI requires without "
    "authentication: a fixed list, no data.",
    ("GET", "/credentials/issuer"): "The Open Badges issuer Profile every credential names: "
    "the service's name and URL, no personal data.",
    ("GET", "/credentials/achievements/{level}"): "What Bronze, Silver and Gold take, which "
    "every credential names and verifiers read: from the award rules, no personal data.",
    ("GET", "/.well-known/jwks.json"): "The public keys that verify IQT credentials: public "
    "by nature, no personal data.",
    ("GET", "/credentials/keys/{kid}"): "One of those public keys, which credential headers name.",
    ("GET", "/credentials/statusLists/{number}"): "Which credentials are revoked, as bits that "
    "verifiers fetch: no personal data.",
    ("POST", "/credentials/verify"): "Verification for anyone a credential is shown to: it "
    "answers about the credential sent, reads nothing else.",
}

# A value for each path parameter; whether it exists does not matter before authorisation.
PATH_VALUES = {
    "odsCode": "7A4",
    "employeeNumber": "100001",
    "courseCode": "IQT-BRONZE",
    "completionId": "1",
    "projectId": "1",
    "awardId": "1",
    "snapshotId": "1",
    "version": "1",
    "level": "bronze",
    "kid": "development",
    "number": "1",
    "id": "7A4-2026-11-05",
}


def _url(path: str) -> str:
    return path.format(**PATH_VALUES)


def _security(app: FastAPI) -> dict[tuple[str, str], Any]:
    documented = {
        (method.upper(), path): operation.get("security")
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    }
    # A HEAD operation is its GET without the body, documented with it.
    heads = {
        (method, path): documented[("GET", path)]
        for method, path in operations(app)
        if method == "HEAD" and ("GET", path) in documented
    }
    return {**heads, **documented}


def _protected(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(set(operations(app)) - set(PUBLIC))


def test_the_public_operations_are_exactly_the_listed_ones(app: FastAPI) -> None:
    assert set(PUBLIC) <= set(operations(app))
    security = _security(app)
    documented_public = {
        op
        for op in operations(app)
        if not any("oauth2" in requirement for requirement in security.get(op) or [])
    }
    assert documented_public == set(PUBLIC)


def test_every_other_operation_states_at_least_one_scope(app: FastAPI) -> None:
    security = _security(app)
    without = [op for op in _protected(app) if not security[op][0]["oauth2"]]
    assert without == []


@pytest.fixture
async def no_scopes(make_client: ClientFactory) -> dict[str, str]:
    return await make_client(scopes=[], name="no scopes")


async def test_a_client_without_scopes_is_refused_everywhere_but_the_public_list(
    app: FastAPI, client: httpx.AsyncClient, no_scopes: dict[str, str]
) -> None:
    answers = {
        (method, path): (await client.request(method, _url(path), headers=auth(no_scopes)))
        for method, path in _protected(app)
    }
    statuses = {op: response.status_code for op, response in answers.items()}
    assert statuses == dict.fromkeys(answers, 403)
    for response in answers.values():
        if response.request.method != "HEAD":  # a HEAD answer has no body
            assert response.json()["type"].endswith("/forbidden")
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_a_request_without_a_token_is_401_everywhere_but_the_public_list(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    statuses = {
        (method, path): (await client.request(method, _url(path))).status_code
        for method, path in _protected(app)
    }
    assert statuses == dict.fromkeys(statuses, 401)


async def test_the_public_operations_answer_without_a_bearer_token(
    client: httpx.AsyncClient,
) -> None:
    statuses = {(m, p): (await client.request(m, _url(p))).status_code for m, p in PUBLIC}
    # The token endpoint wants a grant and the client's own credentials (RFC 6749 errors).
    # Verification wants a credential in the body.
    assert statuses == {
        **dict.fromkeys(PUBLIC, 200),
        ("POST", "/oauth2/token"): 400,
        ("POST", "/credentials/verify"): 422,
    }
