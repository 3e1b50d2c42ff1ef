"""Uptake answers kept for a few seconds: a change shows once they expire, and an answer is
never handed to a caller who may see less (suppressed counts, fewer organisations)."""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.core.short_cache import ShortCache
from app.uptake import service
from tests.conftest import CatchUp, ClientFactory, auth
from tests.uptake.factories import put_person

pytestmark = pytest.mark.usefixtures("figures")
PARAMS = {"groupBy": "organisation", "asOf": "2025-06-30"}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Any) -> Iterator[Clock]:
    clock, kept = Clock(), app.state.uptake_figures
    app.state.uptake_figures = ShortCache(2, timer=clock)
    yield clock
    app.state.uptake_figures = kept


def headcounts(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return {row["organisation"]: row["headcount"] for row in response.json()["data"]}


async def test_a_change_shows_when_the_kept_answer_expires(
    client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str], clock: Clock
) -> None:
    before = headcounts(await client.get("/uptake", params=PARAMS, headers=auth(analyst)))
    await put_person(client, admin, "N1", startDate="2019-04-01")

    clock.now = 1.5
    kept = headcounts(await client.get("/uptake", params=PARAMS, headers=auth(analyst)))
    clock.now = 2.5
    after = headcounts(await client.get("/uptake", params=PARAMS, headers=auth(analyst)))

    assert kept == before
    assert after == {**before, "7A4": before["7A4"] + 1}


async def test_an_exact_answer_is_not_handed_to_a_dashboard_client(
    client: httpx.AsyncClient, analyst: dict[str, str], dashboard: dict[str, str], clock: Clock
) -> None:
    params = {**PARAMS, "groupBy": "staffGroup"}
    exact = await client.get("/uptake", params=params, headers=auth(analyst))
    withheld = await client.get("/uptake", params=params, headers=auth(dashboard))

    assert not any(row["suppressed"] for row in exact.json()["data"])
    assert any(row["suppressed"] for row in withheld.json()["data"])


async def test_an_unrestricted_answer_is_not_handed_to_a_restricted_client(
    client: httpx.AsyncClient, analyst: dict[str, str], make_client: ClientFactory, clock: Clock
) -> None:
    restricted = await make_client(["uptake:read", "staff:read"], organisations=["7A6"])
    everyone = headcounts(await client.get("/uptake", params=PARAMS, headers=auth(analyst)))
    theirs = headcounts(await client.get("/uptake", params=PARAMS, headers=auth(restricted)))

    assert set(everyone) == {"7A4", "7A6"}
    assert set(theirs) == {"7A6"}


async def test_a_dashboard_that_hangs_up_leaves_the_others_their_answer_and_no_connection(
    app: Any,
    lagging_client: httpx.AsyncClient,
    analyst: dict[str, str],
    clock: Clock,
    caught_up: CatchUp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two dashboards ask at once and share one computation; the first hangs up while it runs.
    The second still gets its answer, and the computation returns its connection (run in the
    first request's session, it went on in a session that request's end was closing)."""
    started, release = asyncio.Event(), asyncio.Event()
    compute = service.uptake_as_of

    async def slow_uptake_as_of(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await release.wait()
        return await compute(*args, **kwargs)

    await caught_up()
    monkeypatch.setattr(service, "uptake_as_of", slow_uptake_as_of)
    pool = app.state.engine.pool
    connections_before = pool.checkedout()
    ask = lambda: lagging_client.get("/uptake", params=PARAMS, headers=auth(analyst))  # noqa: E731

    async with asyncio.timeout(20):  # in the first request's session, it hung
        first = asyncio.create_task(ask())
        await started.wait()
        second = asyncio.create_task(ask())
        await asyncio.sleep(0.1)  # the second is waiting for the same computation
        first.cancel()
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        answer = await second

    assert pool.checkedout() == connections_before
    clock.now = 5  # a new computation, undisturbed
    assert headcounts(answer) == headcounts(await ask()) != {}
