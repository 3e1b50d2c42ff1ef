"""People a write creates are noted with where it placed them, and the projection counts them
from that without reading them back; whatever happens to them before the worker gets there (a
move, a Bronze earned in the same write, a rebuild of the summary), once it has caught up the
figures are a recount's."""

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import today
from app.uptake.projection_jobs import catch_up, run_step
from app.uptake.summary import rebuild_uptake
from tests.conftest import CatchUp, auth
from tests.staff.factories import batch_record
from tests.statements import statements_run
from tests.uptake.factories import add_bronze_course, put_person, send_bronze_completion


async def _figures(client: httpx.AsyncClient, analyst: dict[str, str]) -> dict[str, Any]:
    # As of today: the day the moves below take effect.
    params = {"groupBy": "organisation", "asOf": today().isoformat()}
    response = await client.get("/uptake", params=params, headers=auth(analyst))
    assert response.status_code == 200, response.text
    return {
        row["organisation"]: (row["headcount"], row["atLeastBronze"])
        for row in response.json()["data"]
    }


async def _post_batch(
    client: httpx.AsyncClient, admin: dict[str, str], records: list[dict[str, Any]]
) -> None:
    response = await client.post(
        "/staffBatches", json={"mode": "upsert", "records": records}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == len(records), response.text


async def test_people_a_batch_creates_are_counted_without_reading_them_back(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    records = [
        batch_record("N1", organisation="7A4", startDate="2019-04-01"),
        batch_record("N2", organisation="7A4", startDate="2099-07-01"),  # not yet started
        batch_record("N3", organisation="7A6", startDate="2019-04-01", endDate="2026-06-29"),
        batch_record("N4", organisation="7A6", startDate="2020-01-01", staffGroup="08"),
    ]
    await _post_batch(lagging_client, admin, records)

    with statements_run(app) as run:
        await catch_up(app.state.sessionmaker)

    read_back = [s for s, _ in run if "FROM staff_members" in s or "FROM staff_history" in s]
    assert read_back == []
    assert await _figures(lagging_client, analyst) == {"7A4": (1, 0), "7A6": (1, 0)}


async def test_a_person_moved_before_the_worker_runs_is_counted_where_they_are_now(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    await _post_batch(
        lagging_client, admin, [batch_record("M1", organisation="7A4", startDate="2019-04-01")]
    )
    await put_person(lagging_client, admin, "M1", organisation="7A6", startDate="2019-04-01")

    await catch_up(app.state.sessionmaker)

    assert await _figures(lagging_client, analyst) == {"7A6": (1, 0)}


async def test_a_move_noted_after_the_worker_took_the_creation_is_counted_next_step(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    """The worker takes one outbox row in its first step here: it counts the person where the
    batch placed them, the next step moves them."""
    await _post_batch(
        lagging_client, admin, [batch_record("M1", organisation="7A4", startDate="2019-04-01")]
    )
    await put_person(lagging_client, admin, "M1", organisation="7A6", startDate="2019-04-01")

    first = await run_step(app.state.sessionmaker, "test", debounce=timedelta(0), batch_rows=1)
    rest = await catch_up(app.state.sessionmaker, "test")  # and lets go of the projection

    assert first is not None and first.rows == 1 and [s.rows for s in rest] == [1]
    assert await _figures(lagging_client, analyst) == {"7A6": (1, 0)}


async def test_a_bronze_earned_in_the_write_that_creates_the_person_is_counted(
    lagging_client: httpx.AsyncClient,
    admin: dict[str, str],
    analyst: dict[str, str],
    caught_up: CatchUp,
) -> None:
    """A completion sent before HR sent the person waits unmatched; creating the person
    matches it and grants Bronze in the same transaction."""
    await add_bronze_course(lagging_client, admin)
    waiting = await send_bronze_completion(lagging_client, admin, "B1")
    assert waiting.status_code == 201, waiting.text

    await _post_batch(
        lagging_client, admin, [batch_record("B1", organisation="7A4", startDate="2019-04-01")]
    )
    await caught_up()

    assert await _figures(lagging_client, analyst) == {"7A4": (1, 1)}


async def test_a_rebuild_before_the_worker_runs_does_not_count_new_people_twice(
    app: Any, lagging_client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    """The rebuild counts the people from their records and leaves the outbox; the worker then
    finds them already counted."""
    await _post_batch(
        lagging_client,
        admin,
        [batch_record(n, organisation="7A4", startDate="2019-04-01") for n in ("R1", "R2")],
    )
    async with app.state.sessionmaker() as session:
        await rebuild_uptake(session)
        await session.commit()

    await catch_up(app.state.sessionmaker)

    assert await _figures(lagging_client, analyst) == {"7A4": (2, 0)}
