"""Apps with small rate limits, on the test database or on Redis, with a clock tests can move."""

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.auth import service as auth_service
from app.auth.scopes import ALL_SCOPES
from app.auth.tokens import issue_token
from app.core.settings import Settings
from app.main import create_app
from tests.services import REDIS_URL, require_redis

STORES = ["database", "redis"]


class Clock:
    """Unix time that moves only when a test says so.

    It starts at the top of the current hour: the start of a window of every length that
    divides an hour. Started at the wall clock's now, a test moving it 0.2 s crossed into the
    next minute's window once in 300 runs."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 3600 * 3600)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def redis_reachable() -> None:
    """Redis runs here and in CI: without it these tests are skipped, and fail in CI."""
    require_redis()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def make_limited_app(
    settings: Settings, engine: Any, request: pytest.FixtureRequest
) -> AsyncIterator[AppFactory]:
    """Apps on the test database with the given settings; the store is the test's ``store``
    parameter (database by default). Apps made by one test share one clock (the database store
    reads it; Redis keeps real time)."""
    callspec = getattr(request.node, "callspec", None)
    store = callspec.params.get("store", "database") if callspec else "database"
    if store == "redis":
        request.getfixturevalue("redis_reachable")
    clock = Clock()
    apps: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "rate_limit": "1000/minute",
            "token_rate_limit": "1000/minute",
            "public_rate_limit": "1000/minute",
            "rate_limit_flush_seconds": 0,
            "redis_url": REDIS_URL if store == "redis" else None,
            **overrides,
        }
        app = create_app(settings.model_copy(update=values))
        if store == "database":
            app.state.rate_limiter.clock = clock
        app.state.test_clock = clock
        apps.append(app)
        return app

    yield factory
    for app in apps:
        await app.state.engine.dispose()


def http(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 123))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def random_address() -> str:
    """A client address of its own, so Redis counts never meet another run's."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


async def new_client(
    app: FastAPI, settings: Settings, rate_limit: str | None = None
) -> dict[str, str]:
    """A full-scope client (with its own rate limit, if given): id, secret and headers."""
    scopes = sorted(ALL_SCOPES)
    async with app.state.sessionmaker() as session:
        new = await auth_service.create_client(
            session, settings, "limited", scopes, None, rate_limit=rate_limit
        )
        await session.commit()
    token = issue_token(settings, new.client_id, scopes, None)
    return {
        "client_id": new.client_id,
        "client_secret": new.client_secret,
        "Authorization": f"Bearer {token}",
    }


async def statuses(
    client: httpx.AsyncClient, headers: dict[str, str], times: int, path: str = "/organisations"
) -> list[int]:
    return [(await client.get(path, headers=headers)).status_code for _ in range(times)]
