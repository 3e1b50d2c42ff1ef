"""The uptake summary as a projection: a write is counted once the worker has caught up, every
answer says how fresh it is, and the worker waits out its debounce, respects another runner's
lease and leaves a failed batch pending. Clocks are handed in; nothing waits on time."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.models import UptakePending, UptakeProjection
from app.uptake import projection_jobs
from app.uptake.projection_jobs import catch_up, run_step
from tests.conftest import CatchUp, auth
from tests.uptake.factories import put_person

PARAMS = {"groupBy": "organisation", "asOf": "2025-06-30"}
FIGURES = ["/uptake", "/uptake/timeSeries", "/uptake/board"]


async def _pending(app: Any) -> list[tuple[list[int], datetime]]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(UptakePending.staff_ids, UptakePending.noted_at).order_by(UptakePending.id)
        )
        return [(list(ids), noted) for ids, noted in rows]


def _freshness(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()["freshness"]
    up_to = datetime.fromisoformat(response.headers["IQT-Uptake-Up-To"])
    assert up_to == datetime.fromisoformat(body["upTo"])
    assert float(response.headers["IQT-Uptake-Lag-Seconds"]) == body["lagSeconds"]
    return dict(body)


def _headcounts(response: httpx.Response) -> dict[str, int]:
    return {row["organisation"]: row["headcount"] for row in response.json()["data"]}


async def test_a_write_is_counted_once_the_projection_catches_up_and_answers_say_so(
    app: Any,
    lagging_client: httpx.AsyncClient,
    admin: dict[str, str],
    analyst: dict[str, str],
    caught_up: CatchUp,
) -> None:
    await put_person(lagging_client, admin, "P1", startDate="2019-04-01")
    await caught_up()
    before = await lagging_client.get("/uptake", params=PARAMS, headers=auth(analyst))
    assert _freshness(before)["lagSeconds"] >= 0

    await put_person(lagging_client, admin, "P2", startDate="2019-04-01")
    [(_, noted_at)] = await _pending(app)
    lagging = await lagging_client.get("/uptake", params=PARAMS, headers=auth(analyst))
    await caught_up()
    current = await lagging_client.get("/uptake", params=PARAMS, headers=auth(analyst))

    assert _headcounts(before) == _headcounts(lagging) == {"7A4": 1}
    assert datetime.fromisoformat(_freshness(lagging)["upTo"]) == noted_at
    assert _headcounts(current) == {"7A4": 2}
    assert datetime.fromisoformat(_freshness(current)["upTo"]) > noted_at
    assert await _pending(app) == []


@pytest.mark.parametrize("path", FIGURES)
async def test_every_answer_from_the_summary_says_how_fresh_it_is_in_json_and_csv(
    client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str], path: str
) -> None:
    await put_person(client, admin, "P1", startDate="2019-04-01")
    as_json = await client.get(path, headers=auth(analyst))
    as_csv = await client.get(path, headers={**auth(analyst), "Accept": "text/csv"})

    assert _freshness(as_json)["lagSeconds"] >= 0
    assert as_csv.status_code == 200, as_csv.text
    assert datetime.fromisoformat(as_csv.headers["IQT-Uptake-Up-To"]).tzinfo is not None
    assert float(as_csv.headers["IQT-Uptake-Lag-Seconds"]) >= 0


async def test_the_worker_waits_out_the_debounce_and_refreshes_a_burst_once(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for group in ("Medical and Dental", "Administrative and Clerical", "Medical and Dental"):
        await put_person(lagging_client, admin, "P1", startDate="2019-01-01", staffGroup=group)
    noted = [at for _, at in await _pending(app)]
    first = min(noted)

    early = await run_step(
        app.state.sessionmaker, "me", clock=lambda: first + projection_jobs.DEBOUNCE / 2
    )
    waiting = len(await _pending(app))
    due = await run_step(
        app.state.sessionmaker, "me", clock=lambda: max(noted) + projection_jobs.DEBOUNCE
    )

    assert early is None and waiting == len(noted) == 3
    assert due is not None and (due.rows, due.people) == (len(noted), 1)
    assert await _pending(app) == []


async def test_a_runner_waits_for_another_runners_lease_then_takes_over(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await put_person(lagging_client, admin, "P1", startDate="2019-01-01")
    [(_, noted_at)] = await _pending(app)
    now = noted_at + timedelta(seconds=5)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(UptakeProjection).values(
                lease_owner="a runner that stopped", lease_expires_at=now + timedelta(seconds=30)
            )
        )
        await session.commit()

    held_elsewhere = await run_step(app.state.sessionmaker, "me", clock=lambda: now)
    waiting = len(await _pending(app))
    taken_over = await run_step(
        app.state.sessionmaker, "me", clock=lambda: now + timedelta(seconds=31)
    )

    assert held_elsewhere is None and waiting == 1
    assert taken_over is not None and taken_over.people == 1
    async with app.state.sessionmaker() as session:
        state = await session.get(UptakeProjection, 1)
        assert state is not None and state.lease_owner is None  # released: caught up
        assert state.last_pending_id is not None and state.people >= 1


async def test_a_step_that_empties_the_outbox_lets_go_of_the_lease(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """A step that happens to take exactly a batch's worth of rows, the last ones pending,
    leaves no lease behind: the next ``iqt uptake catch-up`` (another owner) is not kept
    waiting for it, nor told it has caught up while changes are pending."""
    await put_person(lagging_client, admin, "P1", startDate="2019-01-01")
    await put_person(lagging_client, admin, "P2", startDate="2019-01-01")
    first = await run_step(app.state.sessionmaker, "a", debounce=timedelta(0), batch_rows=2)
    await put_person(lagging_client, admin, "P3", startDate="2019-01-01")

    steps = await catch_up(app.state.sessionmaker, "b")

    assert first is not None and first.rows == 2
    assert [s.people for s in steps] == [1]
    assert await _pending(app) == []


async def test_a_batch_that_fails_stays_pending_and_the_next_step_refreshes_it(
    app: Any,
    lagging_client: httpx.AsyncClient,
    admin: dict[str, str],
    analyst: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await put_person(lagging_client, admin, "P1", startDate="2019-04-01")

    async def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(projection_jobs, "refresh_uptake", fails)
        with pytest.raises(RuntimeError):
            await catch_up(app.state.sessionmaker, "me")
    assert len(await _pending(app)) == 1
    await catch_up(app.state.sessionmaker, "me")

    answer = await lagging_client.get("/uptake", params=PARAMS, headers=auth(analyst))
    assert _headcounts(answer) == {"7A4": 1}
