"""The database going away: 503 problems with Retry-After (never 500), nothing half-written,
and the same app working again once the database is back.

The PostgreSQL tests put a TCP proxy the test controls (tests/core/tcp_proxy.py) between an
app and the test server, and cut it at chosen moments of the wire protocol.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from app.core.settings import Settings, to_async_url
from app.main import create_app
from app.models import Award, Completion, Event, StaffHistory, StaffMember
from tests.completions.factories import BRONZE, COMPLETION_SCOPES, completion
from tests.conftest import PATIENCE, ClientFactory, auth, eventually
from tests.core.tcp_proxy import FaultyProxy, answers, sends
from tests.staff.factories import batch_record, person, seed_organisations

TIMEOUT = PATIENCE  # seconds: no step of these tests may hang, however busy the machine

BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"].isdigit()
    assert response.json()["type"].endswith("/problems/database-unavailable")
    for leak in ("127.0.0.1", "asyncpg", "Traceback", "INSERT", "Errno"):
        assert leak not in response.text


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[FaultyProxy]:
    url = make_url(to_async_url(settings.database_url))
    proxy = FaultyProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def faulty_app(settings: Settings, proxy: FaultyProxy, engine: Any) -> AsyncIterator[FastAPI]:
    """An app of its own whose database connections all go through the proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        settings.model_copy(
            update={
                "database_url": url.render_as_string(hide_password=False),
                "run_background_jobs": False,
            }
        )
    )
    yield app
    await app.state.engine.dispose()


def driver_connections(app: FastAPI) -> list[Any]:
    """The driver's connections the app opens from now on (asyncpg's, with ``is_closed``)."""
    opened: list[Any] = []

    @event.listens_for(app.state.engine.sync_engine, "connect")
    def _note(dbapi_connection: Any, _record: Any) -> None:
        opened.append(dbapi_connection.driver_connection)

    return opened


@pytest.fixture
async def faulty_client(faulty_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=faulty_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=TIMEOUT
    ) as client:
        yield client


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client(name="admin")
    await seed_organisations(client, creds)
    return creds


# --- (a) a staff batch cut in the middle -----------------------------------------------------

BASE = [batch_record(str(500000 + i)) for i in range(1000)]
BATCH = [
    *({**r, "staffGroup": "Medical and Dental", "jobTitle": "Registrar"} for r in BASE),
    *(batch_record(str(510000 + i)) for i in range(2000)),
]


async def staff_state(app: FastAPI) -> dict[str, Any]:
    """Every staff row, its open history row, and the staff events, read directly."""
    async with app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                select(StaffMember.id, StaffMember.employee_number, StaffMember.staff_group_code)
            )
        ).all()
        history = (
            await session.execute(
                select(StaffHistory.staff_id, StaffHistory.staff_group_code).where(
                    StaffHistory.valid_to.is_(None)
                )
            )
        ).all()
        events = (
            await session.execute(
                select(Event.type, Event.resource_id).where(Event.resource_type == "staff")
            )
        ).all()
    staff = {staff_id: group for staff_id, _, group in rows}
    numbers = {staff_id: number for staff_id, number, _ in rows}
    open_history = Counter(staff_id for staff_id, _ in history)
    assert all(count == 1 for count in open_history.values()), "two open history rows"
    assert {staff_id: group for staff_id, group in history} == staff, "history ≠ staff rows"
    by_type: dict[str, Counter[str]] = {}
    for event_type, resource_id in events:
        by_type.setdefault(event_type, Counter())[resource_id] += 1
    return {
        "groups": {numbers[i]: group for i, group in staff.items()},
        "created": by_type.get("staffCreated", Counter()),
        "updated": by_type.get("staffUpdated", Counter()),
    }


def before_the_batch() -> dict[str, Any]:
    return {
        "groups": {r["employeeNumber"]: "03" for r in BASE},
        "created": Counter(r["employeeNumber"] for r in BASE),
        "updated": Counter(),
    }


def after_the_batch() -> dict[str, Any]:
    return {
        "groups": {
            r["employeeNumber"]: "01" if i < len(BASE) else "03" for i, r in enumerate(BATCH)
        },
        "created": Counter(r["employeeNumber"] for r in BATCH),
        "updated": Counter(r["employeeNumber"] for r in BASE),
    }


async def post_batch(client: httpx.AsyncClient, creds: dict[str, str], records: Any) -> Any:
    body = {"mode": "upsert", "organisation": "7A4", "records": records}
    async with asyncio.timeout(TIMEOUT):
        return await client.post("/staffBatches", json=body, headers=auth(creds))


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("cut_when", "stored"),
    [
        pytest.param([sends(b"INSERT INTO staff_members")], False, id="server-has-the-insert"),
        pytest.param([sends(b"INSERT INTO audit_records")], False, id="all-written-uncommitted"),
        pytest.param(
            [sends(b"INSERT INTO audit_records"), answers(b"COMMIT\x00")],
            True,
            id="committed-answer-lost",
        ),
    ],
)
async def test_a_staff_batch_cut_midway_is_503_and_stored_whole_or_not_at_all(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin: dict[str, str],
    proxy: FaultyProxy,
    faulty_client: httpx.AsyncClient,
    cut_when: list[Any],
    stored: bool,
) -> None:
    acknowledged = await post_batch(client, admin, BASE)
    assert acknowledged.status_code == 200, acknowledged.text
    assert await staff_state(app) == before_the_batch()

    proxy.cut_when(*cut_when)
    response = await post_batch(faulty_client, admin, BATCH)
    assert proxy.cuts == 1, "the proxy never saw the moment to cut"
    assert_database_unavailable(response)
    await proxy.restore()
    assert await staff_state(app) == (after_the_batch() if stored else before_the_batch())

    # The same app, not restarted, takes the batch again: sending it again is safe.
    again = await post_batch(faulty_client, admin, BATCH)
    assert again.status_code == 200, again.text
    counts = {k: again.json()[k] for k in ("created", "updated", "unchanged", "rejected")}
    if stored:
        assert counts == {"created": 0, "updated": 0, "unchanged": 3000, "rejected": 0}
    else:
        assert counts == {"created": 2000, "updated": 1000, "unchanged": 0, "rejected": 0}
    assert await staff_state(app) == after_the_batch()


# --- (b) a burst of completions while the database goes away and comes back ------------------

BURST = 200
PARALLEL = 16


@pytest.fixture
async def platform(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> dict[str, str]:
    """An e-learning platform; the Bronze course and the people it posts for exist."""
    course = await client.put(f"/courses/{BRONZE}", json=BRONZE_COURSE, headers=auth(admin))
    assert course.status_code == 201, course.text
    people = [batch_record(str(600000 + i)) for i in range(BURST)]
    staff = await post_batch(client, admin, people)
    assert staff.json()["created"] == BURST, staff.text
    return await make_client(scopes=COMPLETION_SCOPES, name="Learning@Wales")


def burst_completion(i: int) -> dict[str, Any]:
    return completion(f"burst-{i}", number=str(600000 + i))


async def completions_state(app: FastAPI) -> dict[str, int]:
    """External id → completion id; asserts that nothing is half there: every completion has
    its one event and its one Bronze award naming it, every award its event and completion."""
    async with app.state.sessionmaker() as session:
        completions = (
            await session.execute(
                select(Completion.id, Completion.external_id, Completion.staff_id)
            )
        ).all()
        awards = (
            await session.execute(
                select(Award.id, Award.staff_id, Award.level, Award.evidence, Award.status)
            )
        ).all()
        events = (await session.execute(select(Event.type, Event.resource_id))).all()
    by_external_id = Counter(external_id for _, external_id, _ in completions)
    assert all(n == 1 for n in by_external_id.values()), "a completion stored twice"
    recorded = Counter(r for t, r in events if t == "completionRecorded")
    assert recorded == Counter(str(c.id) for c in completions), "completion ≠ its event"
    granted = Counter(r for t, r in events if t == "awardGranted")
    assert granted == Counter(str(a.id) for a in awards), "award ≠ its event"
    bronze_of = {a.staff_id: a for a in awards}
    assert len(bronze_of) == len(awards), "two awards for one person"
    assert {(c.staff_id, c.id) for c in completions} == {
        (a.staff_id, a.evidence["completionIds"][0])
        for a in awards
        if a.level == "bronze" and a.status == "active"
    }, "a completion without its award, or an award without its completion"
    return {external_id: completion_id for completion_id, external_id, _ in completions}


@pytest.mark.postgresql
async def test_a_completion_burst_through_a_cut_loses_nothing_acknowledged(
    app: FastAPI,
    platform: dict[str, str],
    proxy: FaultyProxy,
    faulty_client: httpx.AsyncClient,
) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(BURST):
        queue.put_nowait(i)
    answers_by_index: dict[int, httpx.Response] = {}
    statuses: Counter[int] = Counter()
    armed: list[bool] = []

    async def sender() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = burst_completion(i)
            response = await faulty_client.post("/completions", json=body, headers=auth(platform))
            answers_by_index[i] = response
            statuses[response.status_code] += 1
            # Once a quarter is acknowledged, the database goes away with requests in flight,
            # at the moment one of them has committed but not heard so; it comes back once
            # a batch of requests has been refused.
            if statuses[201] >= BURST // 4 and not armed:
                armed.append(True)
                proxy.cut_when(sends(b"completionRecorded"), answers(b"COMMIT\x00"))
            if statuses[503] >= PARALLEL and proxy.refusing:
                await proxy.restore()

    async with asyncio.timeout(TIMEOUT):
        await asyncio.gather(*(sender() for _ in range(PARALLEL)))

    print(f"completion burst through a cut: {dict(statuses)}")
    assert proxy.cuts == 1
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] >= PARALLEL and statuses[201] > BURST // 4, statuses
    unavailable = [i for i, r in answers_by_index.items() if r.status_code == 503]
    for i in unavailable:
        assert_database_unavailable(answers_by_index[i])

    stored = await completions_state(app)
    for i, response in answers_by_index.items():
        if response.status_code == 201:
            assert stored[f"burst-{i}"] == response.json()["id"]
    committed_unheard = len(stored) - statuses[201]
    print(f"of the 503 answers, committed before the answer was lost: {committed_unheard}")
    assert committed_unheard >= 1

    # A client resends what answered 503, unchanged: stored once, whatever the cut did.
    async with asyncio.timeout(TIMEOUT):
        for i in unavailable:
            was_stored = f"burst-{i}" in stored
            body = burst_completion(i)
            retry = await faulty_client.post("/completions", json=body, headers=auth(platform))
            assert retry.status_code == (200 if was_stored else 201), retry.text
            if was_stored:
                assert retry.json()["id"] == stored[f"burst-{i}"]
            again = await faulty_client.post("/completions", json=body, headers=auth(platform))
            assert (again.status_code, again.json()) == (200, retry.json())
    final = await completions_state(app)
    assert sorted(final) == sorted(f"burst-{i}" for i in range(BURST))


# --- (c) readiness and ordinary requests while cut, and after -------------------------------


@pytest.mark.postgresql
async def test_the_app_answers_503_while_cut_and_recovers_by_itself(
    admin: dict[str, str],
    proxy: FaultyProxy,
    faulty_app: FastAPI,
    faulty_client: httpx.AsyncClient,
) -> None:
    opened = driver_connections(faulty_app)
    async with asyncio.timeout(TIMEOUT):
        assert (await faulty_client.get("/_status")).status_code == 200
        assert (await faulty_client.get("/staff", headers=auth(admin))).status_code == 200

        # A restart between two requests: the pooled connections are dead, and discarded.
        # (A restart takes longer than the turns of the event loop in which the driver reads
        # the close: a connection that dies in the very instant it is taken fails once, 503.)
        await proxy.cut()

        async def every_close_read() -> bool:
            return all(connection.is_closed() for connection in opened)

        assert opened and await eventually(every_close_read, every=0.01)
        await proxy.restore()
        assert (await faulty_client.get("/staff", headers=auth(admin))).status_code == 200

        await proxy.cut()  # the pooled connections die, new ones are refused
        assert_database_unavailable(await faulty_client.get("/_status"))
        assert_database_unavailable(await faulty_client.get("/staff", headers=auth(admin)))
        token = await faulty_client.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": admin["client_id"],
                "client_secret": admin["client_secret"],
            },
        )
        assert_database_unavailable(token)
        written = await faulty_client.put(
            "/staff/700001", json=person("700001"), headers=auth(admin)
        )
        assert_database_unavailable(written)

        await proxy.restore()
        assert (await faulty_client.get("/_status")).status_code == 200
        assert (await faulty_client.get("/staff", headers=auth(admin))).status_code == 200
        written = await faulty_client.put(
            "/staff/700001", json=person("700001"), headers=auth(admin)
        )
        assert written.status_code == 201, written.text


# --- (d) a database that stops answering without closing anything (a network partition) -----


@pytest.fixture
async def silent_prone_app(
    settings: Settings, proxy: FaultyProxy, engine: Any
) -> AsyncIterator[FastAPI]:
    """An app through the proxy, with every wait on the database bounded at one second."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        settings.model_copy(
            update={
                "database_url": url.render_as_string(hide_password=False),
                "run_background_jobs": False,
                "database_connect_timeout_seconds": 1,
                "database_statement_timeout_seconds": 1,
                "database_pool_timeout_seconds": 1,
            }
        )
    )
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def silent_prone_client(silent_prone_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=silent_prone_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=TIMEOUT
    ) as client:
        yield client


@pytest.mark.postgresql
async def test_a_silent_database_is_503_not_a_hang_and_ready_again_once_it_answers(
    admin: dict[str, str], proxy: FaultyProxy, silent_prone_client: httpx.AsyncClient
) -> None:
    client = silent_prone_client
    async with asyncio.timeout(TIMEOUT):  # a hang fails the test; the bound is the settings'
        assert (await client.get("/_status")).status_code == 200
        assert (await client.get("/staff", headers=auth(admin))).status_code == 200

        proxy.partition()  # pooled connections stay open, but nothing answers
        assert_database_unavailable(await client.get("/_status"))
        assert_database_unavailable(await client.get("/staff", headers=auth(admin)))
        written = await client.put("/staff/700002", json=person("700002"), headers=auth(admin))
        assert_database_unavailable(written)
        assert_database_unavailable(await client.get("/_status"))

        proxy.heal()
        assert (await client.get("/_status")).status_code == 200
        assert (await client.get("/staff/700002", headers=auth(admin))).status_code == 404
        written = await client.put("/staff/700002", json=person("700002"), headers=auth(admin))
        assert written.status_code == 201, written.text


@pytest.mark.postgresql
async def test_a_write_whose_commit_went_unheard_is_not_stored_once_the_network_heals(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    proxy: FaultyProxy,
    silent_prone_client: httpx.AsyncClient,
) -> None:
    async with asyncio.timeout(TIMEOUT):
        proxy.partition_when(sends(b"INSERT INTO staff_members"))
        written = await silent_prone_client.put(
            "/staff/700003", json=person("700003"), headers=auth(admin)
        )
        assert_database_unavailable(written)  # the client has its answer and has given up
        proxy.heal()  # what the app sent meanwhile arrives now, unless it gave up the connection
        assert (await silent_prone_client.get("/_status")).status_code == 200
        assert (await client.get("/staff/700003", headers=auth(admin))).status_code == 404
