"""GET /events: the outbox feed, in commit-safe order, so that a consumer misses nothing."""

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.database import create_engine
from app.core.settings import Settings
from app.events.domain import ENVELOPE, FeedEvent
from app.events.service import record_feed_events
from tests.conftest import ClientFactory, auth, eventually, new_engine, read_events

CARDIFF = {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"}
ANEURIN = {"name": "Aneurin Bevan University Health Board", "type": "healthBoard"}


@dataclass(frozen=True)
class _Marker(FeedEvent):
    """An event that says which write made it (its resource id and payload)."""

    feed_type: ClassVar[str] = "organisationChanged"
    resource_type: ClassVar[str] = "organisation"
    marker: str
    organisation: str | None = field(default=None, metadata=ENVELOPE)

    @property
    def resource_id(self) -> str:
        return self.marker


@dataclass(frozen=True)
class _AwardMarker(_Marker):
    feed_type: ClassVar[str] = "awardGranted"


async def _record(session: AsyncSession, resource_id: str, event_type: str = "") -> None:
    marker = _AwardMarker if event_type == "awardGranted" else _Marker
    assert event_type in ("", marker.feed_type)
    await record_feed_events(session, [marker(resource_id)], None)


async def test_organisation_changes_appear_in_order(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    await client.put("/organisations/7A6", json=ANEURIN, headers=auth(creds))
    await client.put("/organisations/7A4", json={**CARDIFF, "name": "Renamed"}, headers=auth(creds))
    body = await read_events(client, auth(creds), at_least=3)
    events = body["data"]
    assert [(e["type"], e["resourceId"]) for e in events] == [
        ("organisationChanged", "7A4"),
        ("organisationChanged", "7A6"),
        ("organisationChanged", "7A4"),
    ]
    assert events[0]["data"]["created"] is True
    assert events[2]["data"] == {"created": False, "changed": ["name"]}
    assert all(e["clientId"] == creds["client_id"] for e in events)
    assert body["meta"] == {"count": 3, "after": events[-1]["cursor"]}


async def test_resuming_after_a_cursor_returns_only_later_events(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    first = await read_events(client, auth(creds))
    await client.put("/organisations/7A6", json=ANEURIN, headers=auth(creds))
    later = await read_events(client, auth(creds), after=first["meta"]["after"])
    assert [e["resourceId"] for e in later["data"]] == ["7A6"]


async def test_next_link_resumes_from_the_last_event(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    body = await read_events(client, auth(creds))
    [next_href] = [link["href"] for link in body["links"] if link["rel"] == "next"]
    assert httpx.URL(next_href).params["after"] == body["data"][-1]["cursor"]


async def test_poll_with_nothing_new_keeps_the_cursor(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    cursor = (await read_events(client, auth(creds)))["meta"]["after"]
    again = await read_events(client, auth(creds), at_least=0, after=cursor)
    assert again["data"] == []
    assert again["meta"] == {"count": 0, "after": cursor}


async def test_limit_caps_the_batch_and_the_rest_follows(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    for code in ("7A1", "7A2", "7A3"):
        await client.put(f"/organisations/{code}", json=CARDIFF, headers=auth(creds))
    await read_events(client, auth(creds), at_least=3)
    first = await read_events(client, auth(creds), limit=2)
    rest = await read_events(client, auth(creds), limit=2, after=first["meta"]["after"])
    assert [e["resourceId"] for e in first["data"]] == ["7A1", "7A2"]
    assert [e["resourceId"] for e in rest["data"]] == ["7A3"]


async def test_types_filter_returns_only_those_types(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any
) -> None:
    creds = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(creds))
    async with app.state.sessionmaker() as session:
        await _record(session, "award-1", "awardGranted")
        await session.commit()
    only_awards = await read_events(client, auth(creds), types="awardGranted")
    assert [e["type"] for e in only_awards["data"]] == ["awardGranted"]
    both = await read_events(
        client, auth(creds), at_least=2, types="organisationChanged,awardGranted"
    )
    assert [e["type"] for e in both["data"]] == ["organisationChanged", "awardGranted"]


async def test_unknown_type_is_400(client: httpx.AsyncClient, make_client: ClientFactory) -> None:
    creds = await make_client()
    response = await client.get("/events", params={"types": "nothingHappened"}, headers=auth(creds))
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "types"


async def test_restricted_client_sees_only_its_organisations_events(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await make_client()
    await client.put("/organisations/7A4", json=CARDIFF, headers=auth(admin))
    await client.put("/organisations/7A6", json=ANEURIN, headers=auth(admin))
    restricted = await make_client(scopes=["events:read"], organisations=["7A6"])
    body = await read_events(client, auth(restricted))
    assert [e["organisation"] for e in body["data"]] == ["7A6"]


async def test_feed_needs_the_events_read_scope(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=["organisations:read"])
    assert (await client.get("/events", headers=auth(creds))).status_code == 403


NOT_CURSORS = [
    "abc",
    "12",
    "1-",
    "-1",
    "1-2-3",
    "1.5-2",
    "99999999999999999999-1",
    "1-99999999999999999999",
    "\u00b2-1",  # a superscript two is a digit to str.isdigit, not to int()
]


@pytest.mark.parametrize("after", NOT_CURSORS)
async def test_after_that_is_not_a_cursor_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory, after: str
) -> None:
    creds = await make_client()
    response = await client.get("/events", params={"after": after}, headers=auth(creds))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalidParams"][0]["name"] == "after"


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine apart from the app's, for transactions the test holds open."""
    engine = new_engine(database_url)
    yield engine
    await engine.dispose()


async def _poll_until(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, count: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Polls as a consumer would until `count` events arrived (or patience runs out)."""
    seen: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal after
        params = {"after": after} if after else {}
        body = await read_events(client, headers, at_least=0, **params)
        seen.extend(body["data"])
        after = body["meta"]["after"]
        return len(seen) >= count

    await eventually(arrived)
    return seen, after


@pytest.mark.postgresql
async def test_event_of_a_transaction_that_commits_late_is_not_skipped(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any, own_engine: AsyncEngine
) -> None:
    creds = await make_client(scopes=["events:read"])
    headers = auth(creds)
    async with app.state.sessionmaker() as session:
        await _record(session, "before")
        await session.commit()
    seen, cursor = await _poll_until(client, headers, None, 1)
    assert [e["resourceId"] for e in seen] == ["before"]

    async with own_engine.connect() as connection_a:
        transaction_a = await connection_a.begin()
        session_a = AsyncSession(bind=connection_a)
        await _record(session_a, "late")  # A takes its transaction id and event id first

        async with app.state.sessionmaker() as session_b:
            await _record(session_b, "early")
            await session_b.commit()  # B commits while A still runs

        held_back = await read_events(client, headers, at_least=0, after=cursor)
        assert held_back["data"] == [], "B was shown while the older A could still commit"
        assert held_back["meta"]["after"] == cursor

        await transaction_a.commit()
        await session_a.close()

    seen, _ = await _poll_until(client, headers, cursor, 2)
    assert [e["resourceId"] for e in seen] == ["late", "early"]


@pytest.mark.postgresql
async def test_event_of_a_transaction_that_rolls_back_never_appears(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any, own_engine: AsyncEngine
) -> None:
    creds = await make_client(scopes=["events:read"])
    async with own_engine.connect() as connection_a:
        transaction_a = await connection_a.begin()
        await _record(AsyncSession(bind=connection_a), "rolled-back")
        async with app.state.sessionmaker() as session_b:
            await _record(session_b, "kept")
            await session_b.commit()
        await transaction_a.rollback()
    seen, _ = await _poll_until(client, auth(creds), None, 1)
    assert [e["resourceId"] for e in seen] == ["kept"]


WRITERS = 20


async def test_concurrent_writers_every_event_is_seen_exactly_once(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    """Writers commit in a random order while a consumer follows the feed with its cursor."""
    creds = await make_client(scopes=["events:read"])
    headers = auth(creds)
    engine = create_engine(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(20261126)
    pauses = [(rng.uniform(0, 0.02), rng.uniform(0, 0.05)) for _ in range(WRITERS)]

    async def writer(number: int) -> None:
        before, inside = pauses[number]
        await asyncio.sleep(before)
        async with sessions() as session, session.begin():
            await _record(session, f"writer-{number:02d}")
            await asyncio.sleep(inside)  # hold the transaction open after taking an id

    seen: list[str] = []
    cursor: str | None = None
    writers = asyncio.gather(*(writer(n) for n in range(WRITERS)))

    async def followed_to_the_end() -> bool:
        nonlocal cursor
        finished = writers.done()
        body = await read_events(
            client, headers, at_least=0, limit=3, **({"after": cursor} if cursor else {})
        )
        seen.extend(e["resourceId"] for e in body["data"])
        cursor = body["meta"]["after"]
        return finished and len(seen) >= WRITERS and not body["data"]

    try:
        await eventually(followed_to_the_end, every=0.005)
        await writers
    finally:
        await engine.dispose()
    assert sorted(seen) == [f"writer-{n:02d}" for n in range(WRITERS)]
    assert len(seen) == len(set(seen)), "an event was delivered twice"


async def _holdback(client: httpx.AsyncClient, make_client: ClientFactory) -> float | None:
    """iqt_event_feed_holdback_seconds as /metrics answers it (None when absent)."""
    prometheus = await make_client(scopes=["metrics:read"], name="prometheus")
    response = await client.get("/metrics", headers=auth(prometheus))
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        if family.name == "iqt_event_feed_holdback_seconds":
            assert family.type == "gauge"
            [sample] = family.samples
            return float(sample.value)
    return None


@pytest.mark.postgresql
async def test_a_transaction_in_another_database_shows_as_the_feeds_holdback(
    client: httpx.AsyncClient, make_client: ClientFactory, postgres_admin_url: str
) -> None:
    """A report left running in another database of the same server holds the feed back:
    /metrics says for how long, at least as long as that transaction has run."""
    elsewhere = new_engine(postgres_admin_url)
    try:
        async with elsewhere.connect() as report:
            await report.execute(text("SELECT pg_current_xact_id()"))  # it has written
            running_for = await report.scalar(
                text("SELECT extract(epoch FROM clock_timestamp() - now())::float8")
            )
            holdback = await _holdback(client, make_client)
            await report.rollback()
    finally:
        await elsewhere.dispose()
    assert holdback is not None and holdback > 0
    assert holdback >= running_for


async def test_the_holdback_is_a_gauge_of_metrics(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    holdback = await _holdback(client, make_client)
    assert holdback is not None and holdback >= 0
