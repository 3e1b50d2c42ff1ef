"""Test harness: one database per pytest-xdist worker (an SQLite file each, or on PostgreSQL a
clone of one template database the real migrations built once per run), the tables a test
wrote to emptied after it, Hypothesis sized by the run's depth (tests/depth.py).

Tests that need a service the machine lacks (PostgreSQL, Redis) are skipped with one line at the
end saying how to run them; with ``CI=true`` a missing service fails the run instead
(tests/services.py).
"""

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import literal, select, text, union_all
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from app.auth import service as auth_service
from app.auth.scopes import ALL_SCOPES
from app.auth.tokens import issue_token
from app.core.database import create_engine
from app.core.migrations import upgrade_on_connection
from app.core.settings import Settings, to_async_url
from app.main import create_app
from app.models import Base
from app.uptake.projection_jobs import catch_up
from tests import depth, services

TEST_DATABASE_URL = os.environ.get("IQT_TEST_DATABASE_URL")
# pytest-xdist names its workers gw0, gw1, ...; None when the suite runs in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
POSTGRESQL_SKIP = "needs PostgreSQL (IQT_TEST_DATABASE_URL)"

depth.load_hypothesis_profile()


def pytest_report_header() -> str:
    where = _redact(TEST_DATABASE_URL) if TEST_DATABASE_URL else "SQLite (temporary file)"
    return f"database: {where}; depth: {depth.NAME}"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per missing service, from the skips the workers reported."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        for service in ("PostgreSQL", "Redis"):
            if f"needs {service}" in reason:
                counts[service] = counts.get(service, 0) + 1
    services.SKIPPED.update(counts)
    for line in services.summary_lines():
        terminalreporter.write_line(line, yellow=True)


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # property tests are slow by nature: out of the inner loop
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
    if is_postgresql():
        return
    skip = pytest.mark.skip(reason=POSTGRESQL_SKIP)
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def is_postgresql() -> bool:
    return (
        bool(TEST_DATABASE_URL)
        and make_url(to_async_url(TEST_DATABASE_URL or "")).get_backend_name() == "postgresql"
    )


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """This worker's database: its own SQLite file, or its own clone of the PostgreSQL template
    (dropped at the end)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    if WORKER is None or not is_postgresql():
        yield TEST_DATABASE_URL
        return
    try:
        clone = await _clone_template(TEST_DATABASE_URL)
    except OSError as exc:  # the server is down: fail the run, never skip
        pytest.exit(f"test database {_redact(TEST_DATABASE_URL)} unreachable: {exc}", 3)
    yield clone
    admin = new_engine(_admin_url(TEST_DATABASE_URL))
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        name = make_url(clone).database
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def _admin_url(url: str) -> str:
    return make_url(to_async_url(url)).set(database="postgres").render_as_string(False)


async def _clone_template(url: str) -> str:
    """The run's template (the database IQT_TEST_DATABASE_URL names) migrated by the first
    worker to get here, then copied for this worker with CREATE DATABASE ... TEMPLATE. An
    advisory lock makes the workers take turns, so nobody is connected to the template while it
    is copied. The template's comment records which run migrated it."""
    template = make_url(to_async_url(url)).database
    clone = f"{template}_{WORKER}"
    marker = f"iqt test template {os.environ.get('PYTEST_XDIST_TESTRUNUID', '')}"
    admin = new_engine(_admin_url(url))
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("SELECT pg_advisory_lock(hashtext('iqt-test-template'))"))
            if await _comment(connection, template) != marker:
                await _migrate_from_nothing(url)
                await connection.execute(text(f"COMMENT ON DATABASE \"{template}\" IS '{marker}'"))
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{clone}" TEMPLATE "{template}"'))
            await connection.execute(text("SELECT pg_advisory_unlock_all()"))
    finally:
        await admin.dispose()
    return make_url(url).set(database=clone).render_as_string(hide_password=False)


async def _comment(connection: AsyncConnection, database: str | None) -> str | None:
    found = await connection.execute(
        text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
        {"n": database},
    )
    comment: str | None = found.scalar()
    return comment


async def _migrate_from_nothing(url: str) -> None:
    engine = new_engine(url)
    try:
        await _reset_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_on_connection)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="development",
        token_signing_key="test-signing-key-0123456789abcdef0123456789",
        secret_hash_profile="CHEAPEST",
        uptake_cache_seconds=0,  # tests read their own writes; tests/uptake/test_figure_cache.py
        # High enough that only the tests of tests/ratelimits meet a rate limit.
        rate_limit="1000000/minute",
        token_rate_limit="1000000/minute",
        public_rate_limit="1000000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )


async def _reset_schema(engine: AsyncEngine) -> None:
    """Drops everything, so the migrations build the schema from nothing."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        else:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
async def engine(settings: Settings, database_url: str) -> AsyncIterator[AsyncEngine]:
    """The worker's database with the schema the migrations build (a PostgreSQL clone of the
    template has it already)."""
    try:
        engine = create_engine(settings)
        cloned = WORKER is not None and is_postgresql()
        if not cloned:
            await _reset_schema(engine)
            async with engine.begin() as connection:
                await connection.run_sync(upgrade_on_connection)
    except OSError as exc:  # the server is down: fail the run, never skip
        pytest.exit(f"test database {_redact(settings.database_url)} unreachable: {exc}", 3)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings, engine: AsyncEngine) -> Any:
    return create_app(settings)


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    async with engine.begin() as connection:
        written = set((await connection.execute(_TABLES_WITH_ROWS)).scalars())
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in written:
                await connection.execute(table.delete())


# One round trip names the tables holding rows; only those are emptied (most tests write to a
# few). Tables the migrations seed keep their rows.
_CLEANED = [t for t in Base.metadata.sorted_tables if not t.info.get("seeded_by_migration")]
_TABLES_WITH_ROWS = union_all(
    *(select(literal(t.name)).where(select(literal(1)).select_from(t).exists()) for t in _CLEANED)
)


@pytest.fixture
async def session(app: Any) -> AsyncIterator[AsyncSession]:
    """A session of the app's own kind, for arranging data and checking what was stored."""
    async with app.state.sessionmaker() as session:
        yield session


CatchUp = Callable[[], Awaitable[None]]


@pytest.fixture
async def client(app: Any, caught_up: CatchUp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, as a dashboard that reads the uptake figures once the projection
    has caught up: before each uptake request, the projection is run until nothing is
    pending (``caught_up``). Tests of the lag itself use ``lagging_client``."""

    async def catch_up_first(request: httpx.Request) -> None:
        if request.url.path.startswith("/uptake"):
            await caught_up()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"request": [catch_up_first]},
    ) as client:
        yield client


@pytest.fixture
async def lagging_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app that reads the uptake figures as they stand."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def caught_up(app: Any) -> CatchUp:
    """Runs the uptake projection until nothing is pending: what a test calls (or its client
    does) before it reads the figures a write changed, instead of waiting for the worker."""

    async def run() -> None:
        await catch_up(app.state.sessionmaker)

    return run


# A client of an app built with some settings changed: ``async with app_client(**changes) as c``.
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(settings: Settings) -> AppClient:
    """A client of an app built with these settings changed (the test database's URL kept)."""

    @asynccontextmanager
    async def build(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes))

        async def catch_up_first(request: httpx.Request) -> None:
            if request.url.path.startswith("/uptake"):  # as the ``client`` fixture does
                await catch_up(app.state.sessionmaker)

        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                event_hooks={"request": [catch_up_first]},
            ) as c:
                yield c
        finally:
            await app.state.engine.dispose()

    return build


ClientFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_client(app: Any, settings: Settings) -> ClientFactory:
    """Creates an API client; returns its id, secret, and Authorization headers."""

    async def factory(
        scopes: list[str] | None = None,
        organisations: list[str] | None = None,
        name: str = "test client",
    ) -> dict[str, str]:
        granted = sorted(ALL_SCOPES) if scopes is None else scopes
        async with app.state.sessionmaker() as session:
            new = await auth_service.create_client(session, settings, name, granted, organisations)
            await session.commit()
        token = issue_token(settings, new.client_id, granted, organisations)
        return {
            "client_id": new.client_id,
            "client_secret": new.client_secret,
            "Authorization": f"Bearer {token}",
        }

    return factory


def auth(credentials: dict[str, str]) -> dict[str, str]:
    return {"Authorization": credentials["Authorization"]}


async def read_events(
    client: httpx.AsyncClient, headers: dict[str, str], *, at_least: int = 1, **params: Any
) -> dict[str, Any]:
    """GET /events, polled until it shows at least ``at_least`` events (for up to PATIENCE).

    On PostgreSQL the feed holds an event back until every older transaction on the server has
    finished, other databases' included, so a test reading right after a commit may have to wait
    for someone else's transaction. On SQLite the first answer is final.
    """
    body: dict[str, Any] = {}

    async def shown() -> bool:
        nonlocal body
        response = await client.get("/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        return len(body["data"]) >= at_least

    await eventually(shown)
    return body


# How long a test waits for what another transaction or process does: long enough that only
# something that never happens meets it, however busy the machine.
PATIENCE = 120.0


async def eventually(
    check: Callable[[], Awaitable[bool]], every: float = 0.05, patience: float = PATIENCE
) -> bool:
    """Calls ``check`` until it says yes (True), ``every`` seconds, for up to ``patience``
    seconds (then False: the caller asserts what it needed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not await check():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(every)
    return True


async def until_waiting_for_a_lock(
    engine: AsyncEngine, pid: int, task: "asyncio.Future[Any]"
) -> None:
    """Returns once PostgreSQL backend ``pid`` waits for a lock (or ``task`` has ended): a
    test holding a transaction open lets it go only once the other statement has met it."""
    query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
    async with engine.connect() as watcher:

        async def waiting() -> bool:
            if task.done():
                return True
            event_type = await watcher.scalar(query, {"pid": pid})
            await watcher.rollback()  # the next look takes a fresh snapshot of the statistics
            return bool(event_type == "Lock")

        assert await eventually(waiting, every=0.01), f"backend {pid} never waited for a lock"


async def backend_pid(connection: Any) -> int:
    """The PostgreSQL backend of a connection or session."""
    return int(await connection.scalar(text("SELECT pg_backend_pid()")))


@pytest.fixture
def postgres_admin_url(database_url: str) -> str:
    """The test server's maintenance database, for tests that create databases of their own."""
    url = make_url(to_async_url(database_url))
    return url.set(database="postgres").render_as_string(hide_password=False)


def new_engine(url: str) -> AsyncEngine:
    return create_async_engine(to_async_url(url))


ROOT = Path(__file__).resolve().parents[1]


def collector_enabled_during(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """Whether garbage collection was enabled at each call of ``module.name`` (it still runs)."""
    seen: list[bool] = []
    real = getattr(module, name)

    def noting(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, noting)
    return seen
