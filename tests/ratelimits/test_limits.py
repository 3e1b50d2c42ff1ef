"""Per-client limits: 429 problems with Retry-After and RateLimit headers, shared counts,
overrides, the token endpoint's stricter limit, and windows that reset."""

import re
import socket
import uuid
from typing import Annotated

import coredis
import pytest

from app.auth.dependencies import Caller, requires
from app.auth.scopes import Scope
from app.core.settings import Settings
from app.ratelimits.redis_store import KEY_PREFIX
from tests.ratelimits.conftest import (
    REDIS_URL,
    STORES,
    AppFactory,
    http,
    new_client,
    random_address,
    statuses,
)

RATE_LIMITED = "https://iqt.nhs.wales/problems/rate-limited"
GRANT = {"grant_type": "client_credentials"}


def _remaining(header: str) -> int:
    match = re.fullmatch(r'"default";r=(\d+);t=(\d+)', header)
    assert match, header
    return int(match.group(1))


@pytest.mark.parametrize("store", STORES)
async def test_over_the_limit_is_a_429_problem_with_retry_after_and_ratelimit_headers(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    app = make_limited_app(rate_limit="3/minute")
    creds = await new_client(app, settings)
    async with http(app) as client:
        answers = [await client.get("/organisations", headers=creds) for _ in range(3)]
        refused = await client.get("/organisations", headers=creds)

    assert [a.status_code for a in answers] == [200, 200, 200]
    for answer in answers:
        assert answer.headers["RateLimit-Policy"] == '"default";q=3;w=60'
    assert [_remaining(a.headers["RateLimit"]) for a in answers] == [2, 1, 0]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert (body["type"], body["status"], body["title"]) == (RATE_LIMITED, 429, "Too many requests")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["RateLimit-Policy"] == '"default";q=3;w=60'
    assert refused.headers["RateLimit"] == f'"default";r=0;t={retry_after}'


@pytest.mark.parametrize("store", STORES)
async def test_a_second_process_shares_the_count(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    first, second = make_limited_app(rate_limit="5/minute"), make_limited_app(rate_limit="5/minute")
    creds = await new_client(first, settings)
    async with http(first) as one, http(second) as other:
        assert await statuses(one, creds, 3) == [200, 200, 200]
        # Two left for the client, whichever process answers: not five.
        assert await statuses(other, creds, 3) == [200, 200, 429]


async def test_each_client_has_a_count_of_its_own(
    make_limited_app: AppFactory, settings: Settings
) -> None:
    app = make_limited_app(rate_limit="2/minute")
    busy, quiet = await new_client(app, settings), await new_client(app, settings)
    async with http(app) as client:
        assert await statuses(client, busy, 3) == [200, 200, 429]
        assert await statuses(client, quiet, 1) == [200]


@pytest.mark.parametrize("store", STORES)
async def test_a_clients_own_rate_limit_overrides_the_default(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    app = make_limited_app(rate_limit="100/minute")
    strict = await new_client(app, settings, rate_limit="2/minute")
    generous = await new_client(app, settings, rate_limit="5 per 10 seconds")
    async with http(app) as client:
        assert await statuses(client, strict, 3) == [200, 200, 429]
        answer = await client.get("/organisations", headers=generous)
    assert answer.headers["RateLimit-Policy"] == '"default";q=5;w=10'


@pytest.mark.parametrize("store", STORES)
async def test_token_requests_have_a_stricter_limit_per_client_id(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    app = make_limited_app(rate_limit="100/minute", token_rate_limit="2/minute")
    creds = await new_client(app, settings)
    form = {**GRANT, "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    async with http(app, random_address()) as one, http(app, random_address()) as other:
        first = await one.post("/oauth2/token", data=form)
        second = await other.post("/oauth2/token", data=form)
        third = await one.post("/oauth2/token", data=form)
        wrong = await other.post("/oauth2/token", data={**form, "client_secret": "guess"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["RateLimit-Policy"] == '"token";q=2;w=60'
    assert (third.status_code, wrong.status_code) == (429, 429)
    assert third.json()["type"] == RATE_LIMITED
    assert int(third.headers["Retry-After"]) >= 1
    assert third.headers["RateLimit"].startswith('"token";r=0;t=')


@pytest.mark.parametrize("store", STORES)
async def test_token_requests_have_a_stricter_limit_per_address(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    """Guessing many client ids from one address meets the limit too."""
    app = make_limited_app(token_rate_limit="2/minute")
    # Client ids of this run's own: each id has a token limit too, and in Redis a fixed id's
    # count met that of the same test in a second suite running beside this one.
    run = uuid.uuid4().hex[:12]
    async with http(app, random_address()) as guesser:
        answers = [
            await guesser.post(
                "/oauth2/token",
                data={**GRANT, "client_id": f"iqt_{run}_{n}", "client_secret": "x"},
            )
            for n in range(3)
        ]
    assert [a.status_code for a in answers] == [401, 401, 429]


async def test_the_database_window_resets(make_limited_app: AppFactory, settings: Settings) -> None:
    first, second = make_limited_app(rate_limit="2/minute"), make_limited_app(rate_limit="2/minute")
    creds = await new_client(first, settings)
    async with http(first) as one, http(second) as other:
        assert await statuses(one, creds, 3) == [200, 200, 429]
        first.state.test_clock.advance(60)
        assert await statuses(other, creds, 1) == [200]
        assert await statuses(one, creds, 2) == [200, 429]


@pytest.mark.parametrize("store", ["redis"])
async def test_the_redis_window_resets(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    # Redis ends a window by expiring its counter, set to one window from the first hit: the
    # test checks that expiry, then brings the end forward rather than waiting it out.
    app = make_limited_app(rate_limit="2/minute")
    creds = await new_client(app, settings)
    redis = coredis.Redis.from_url(REDIS_URL)
    async with http(app) as client:
        assert (await statuses(client, creds, 3))[-1] == 429
        pattern = f"{KEY_PREFIX}*{creds['client_id']}*"
        counters = [key async for key in redis.scan_iter(match=pattern)]
        assert len(counters) == 1
        assert 0 < await redis.pttl(counters[0]) <= 60_000
        assert await redis.pexpireat(counters[0], 1)  # the window's end has come
        assert await statuses(client, creds, 1) == [200]


async def test_the_limit_is_in_the_token_operations_document(
    make_limited_app: AppFactory,
) -> None:
    responses = make_limited_app().openapi()["paths"]["/oauth2/token"]["post"]["responses"]
    assert "429" in responses


@pytest.mark.parametrize("store", ["redis"])
async def test_requests_are_served_uncounted_while_redis_is_unreachable(
    store: str, make_limited_app: AppFactory, settings: Settings
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = make_limited_app(rate_limit="1/minute", redis_url=f"redis://127.0.0.1:{port}/0")
    creds = await new_client(app, settings)
    async with http(app) as client:
        answers = [await client.get("/organisations", headers=creds) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert "RateLimit" not in answers[-1].headers


async def test_a_request_that_authenticates_twice_is_counted_once(
    make_limited_app: AppFactory, settings: Settings
) -> None:
    app = make_limited_app(rate_limit="2/minute")

    @app.get("/twice")
    async def twice(
        _read: Annotated[Caller, requires(Scope.ORGANISATIONS_READ)],
        _write: Annotated[Caller, requires(Scope.ORGANISATIONS_WRITE)],
    ) -> dict[str, str]:
        return {}

    creds = await new_client(app, settings)
    async with http(app) as client:
        assert await statuses(client, creds, 3, path="/twice") == [200, 200, 429]


@pytest.mark.parametrize("store", STORES)
async def test_public_credential_checks_have_a_limit_per_address(
    store: str, make_limited_app: AppFactory
) -> None:
    """Verifying a credential costs the service a signature check, and needs no token: without
    a count of its own, one address could keep the service checking forever."""
    app = make_limited_app(public_rate_limit="2/minute")
    forged = {"credential": "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl"}
    async with http(app, random_address()) as verifier, http(app, random_address()) as other:
        answers = [await verifier.post("/credentials/verify", json=forged) for _ in range(3)]
        status_list = await verifier.get("/credentials/statusLists/1")
        elsewhere = await other.post("/credentials/verify", json=forged)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].json()["verified"] is False
    assert answers[0].headers["RateLimit-Policy"] == '"public";q=2;w=60'
    assert answers[2].json()["type"] == RATE_LIMITED
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert status_list.status_code == 429  # the same address's count
    assert elsewhere.status_code == 200
