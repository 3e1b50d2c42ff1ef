"""Retention: the leased, resumable job that pseudonymises leavers once their retention period
has passed, with an injected clock (no sleeps)."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import RetentionJob, StaffPseudonymisation
from app.personal_data import jobs
from tests.conftest import CatchUp, ClientFactory, auth, read_events
from tests.personal_data.conftest import Subject, texts_holding
from tests.personal_data.test_erasure import uptake_state
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL
from tests.staff.factories import person

TODAY = date(2026, 12, 7)  # six years after 2020-12-07: leavers by then are due
CUTOFF = jobs.retention_cutoff(TODAY, 6)
# Leavers of 7A4 (due, and one not yet due) besides the subject, who left in 2019.
DUE = {f"4000{i:02d}": f"Leaver{i:02d}" for i in range(5)}
NOT_YET = "400099"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _leavers(client: httpx.AsyncClient, subject: Subject) -> None:
    headers = auth(subject.world.admin)
    left = await client.patch(
        f"/staff/{subject.employee_number}", json={"endDate": "2019-06-30"}, headers=headers
    )
    assert left.status_code == 200, left.text
    for number, family_name in DUE.items():
        body = person(
            number,
            familyName=family_name,
            startDate="2015-01-05",
            endDate="2018-03-31",
            workEmail=f"{family_name.lower()}@wales.nhs.uk",
        )
        put = await client.put(f"/staff/{number}", json=body, headers=headers)
        assert put.status_code == 201, put.text
    recent = person(NOT_YET, familyName="Recent", startDate="2015-01-05", endDate="2021-01-31")
    put = await client.put(f"/staff/{NOT_YET}", json=recent, headers=headers)
    assert put.status_code == 201, put.text


async def _pseudonymised(app: Any) -> set[int]:
    async with app.state.sessionmaker() as session:
        return set(await session.scalars(select(StaffPseudonymisation.staff_id)))


async def _queue(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        job = await jobs.queue_sweep(session, CUTOFF)
        await session.commit()
        return job.id


async def test_the_sweep_pseudonymises_leavers_past_retention_and_keeps_uptake(
    app: Any,
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: AsyncEngine,
    subject: Subject,
    caught_up: CatchUp,
) -> None:
    await _leavers(client, subject)
    dashboard = auth(await make_client(scopes=["uptake:read"]))
    before = await uptake_state(client, engine, dashboard, caught_up)
    async with app.state.sessionmaker() as session:
        due = await jobs.due_for_pseudonymisation(session, CUTOFF)
    assert due.by_organisation == {"7A4": len(DUE) + 1}
    await _queue(app)

    steps = await jobs.run_pending_sweeps(app.state.sessionmaker, "runner-1", clock=Clock())

    assert sum(s.pseudonymised for s in steps) == len(DUE) + 1
    assert steps[-1].finished
    assert await texts_holding(engine, [GIVEN_NAME, FAMILY_NAME, WORK_EMAIL, *DUE.values()]) == []
    assert await texts_holding(engine, ["Recent"]) != []
    assert await uptake_state(client, engine, dashboard, caught_up) == before
    feed = auth(await make_client(scopes=["events:read"]))
    events = await read_events(client, feed, at_least=len(DUE) + 1, types="staffPseudonymised")
    assert sorted(e["resourceId"] for e in events["data"]) == sorted(
        [subject.employee_number, *DUE]
    )
    assert {e["data"]["cause"] for e in events["data"]} == {"retention"}


async def test_a_dead_runners_lease_expires_and_another_resumes_after_its_last_chunk(
    app: Any, client: httpx.AsyncClient, subject: Subject
) -> None:
    await _leavers(client, subject)
    job_id = await _queue(app)
    clock = Clock()
    first = await jobs.run_step(app.state.sessionmaker, "runner-1", clock=clock, chunk=2)
    assert first is not None and first.pseudonymised == 2
    done_by_first = await _pseudonymised(app)
    # runner-1 dies here, holding the lease.

    held = await jobs.run_step(app.state.sessionmaker, "runner-2", clock=clock, chunk=2)
    assert held is None
    clock.now += jobs.LEASE - timedelta(seconds=1)
    assert await jobs.run_step(app.state.sessionmaker, "runner-2", clock=clock, chunk=2) is None

    clock.now += timedelta(seconds=2)
    steps = await jobs.run_pending_sweeps(app.state.sessionmaker, "runner-2", clock=clock, chunk=2)

    assert sum(s.pseudonymised for s in steps) == len(DUE) + 1 - 2
    assert done_by_first < await _pseudonymised(app)
    assert len(await _pseudonymised(app)) == len(DUE) + 1
    async with app.state.sessionmaker() as session:
        job = await session.get(RetentionJob, job_id)
        assert job is not None
        assert (job.status, job.done, job.pseudonymised) == ("done", len(DUE) + 1, len(DUE) + 1)


async def test_a_chunk_that_fails_leaves_nothing_half_done_and_is_retried(
    app: Any, client: httpx.AsyncClient, subject: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _leavers(client, subject)
    await _queue(app)
    real = jobs.pseudonymise
    calls = 0

    async def crashing(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second person of the first chunk
            raise RuntimeError("the process died")
        return await real(*args, **kwargs)

    monkeypatch.setattr(jobs, "pseudonymise", crashing)
    with pytest.raises(RuntimeError):
        await jobs.run_step(app.state.sessionmaker, "runner-1", clock=Clock(), chunk=3)
    assert await _pseudonymised(app) == set()

    steps = await jobs.run_pending_sweeps(app.state.sessionmaker, "runner-1", clock=Clock())

    assert sum(s.pseudonymised for s in steps) == len(DUE) + 1


async def test_one_sweep_is_active_at_a_time(app: Any) -> None:
    first = await _queue(app)
    assert await _queue(app) == first


def test_the_cutoff_of_a_leap_day() -> None:
    assert jobs.retention_cutoff(date(2028, 2, 29), 6) == date(2022, 2, 28)
    assert jobs.retention_cutoff(TODAY, 6) == date(2020, 12, 7)


class Naps:
    """The background runner's sleep: noted; the first idle nap ends the run."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        if seconds == jobs.IDLE_SECONDS:
            raise asyncio.CancelledError


async def _run_in_background(app: Any) -> Naps:
    naps = Naps()
    with pytest.raises(asyncio.CancelledError):
        await jobs.run_forever(app.state.sessionmaker, "api-1", 6, sleep=naps, on=lambda: TODAY)
    return naps


async def _sweeps(app: Any) -> list[tuple[str, int]]:
    async with app.state.sessionmaker() as session:
        found = await session.execute(select(RetentionJob.status, RetentionJob.pseudonymised))
        return [(status, count) for status, count in found.all()]


async def test_the_background_runner_sweeps_once_someone_is_due_then_idles(
    app: Any, client: httpx.AsyncClient, engine: AsyncEngine, subject: Subject
) -> None:
    await _leavers(client, subject)

    naps = await _run_in_background(app)

    assert naps.taken == [jobs.IDLE_SECONDS]
    assert await _sweeps(app) == [("done", len(DUE) + 1)]
    assert await texts_holding(engine, [FAMILY_NAME, *DUE.values()]) == []
    assert await texts_holding(engine, ["Recent"]) != []
    await _run_in_background(app)  # nobody is due any more: no second sweep
    assert len(await _sweeps(app)) == 1


async def test_the_background_runner_queues_nothing_while_nobody_is_due(
    app: Any, subject: Subject
) -> None:
    naps = await _run_in_background(app)

    assert naps.taken == [jobs.IDLE_SECONDS]
    assert await _sweeps(app) == []


@pytest.mark.parametrize(
    ("background_jobs", "retention_sweeps", "runs"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
async def test_an_api_process_runs_the_sweeps_unless_a_setting_turns_them_off(
    app: Any, background_jobs: bool, retention_sweeps: bool, runs: bool
) -> None:
    settings = app.state.settings.model_copy(
        update={"run_background_jobs": background_jobs, "run_retention_sweeps": retention_sweeps}
    )
    process = SimpleNamespace(
        state=SimpleNamespace(settings=settings, sessionmaker=app.state.sessionmaker)
    )

    async with jobs.background_runner(process):
        names = {task.get_name() for task in asyncio.all_tasks()}

    assert ("retention-sweeps" in names) is runs
    assert "retention-sweeps" not in {task.get_name() for task in asyncio.all_tasks()}
