"""Re-evaluation after POST /awardRules: a resumable job in chunks, its progress visible,
awards already granted left standing, never a grant twice."""

import asyncio
import contextlib
import copy
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards import gathering, jobs
from app.awards.rules_document import DEFAULT_RULES_JSON
from app.core.clock import utcnow
from app.models import Award, AwardEvaluationJob
from tests.awards.conftest import staff_id
from tests.awards.evidence import (
    active_levels,
    add_approved_project,
    add_completion,
    add_course,
    add_staff,
    awards_of,
    evaluate,
)
from tests.conftest import PATIENCE, auth

PEOPLE = ["100001", "200001", "100002", "100003", "100004"]


def rules(*, bronze_minimum_score: float | None = None, gold_mentored: int = 2) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    document["levels"]["gold"]["minimumMentoredProjects"] = gold_mentored
    if bronze_minimum_score is not None:
        document["levels"]["bronze"] = {
            "catalogueCourses": False,
            "courses": [
                {"code": "IQT-BRONZE", "passRequired": True, "minimumScore": bronze_minimum_score}
            ],
            "minimumCourses": 1,
        }
    return document


async def publish(client: httpx.AsyncClient, admin: dict[str, str], document: Any) -> int:
    response = await client.post("/awardRules", json=document, headers=auth(admin))
    assert response.status_code == 201, response.text
    return int(response.json()["version"])


async def job_of(client: httpx.AsyncClient, admin: dict[str, str], version: int) -> Any:
    response = await client.get(f"/awardRules/{version}/evaluation", headers=auth(admin))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_rules_change_keeps_awards_and_grants_what_the_new_rules_give(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002")
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    await add_approved_project(session, [("100001", "lead")])
    await add_approved_project(session, [("100002", "lead"), ("100001", "mentor")])
    await evaluate(session, "100001", "100002")
    before = await awards_of(session, "100001")
    assert active_levels(before) == ["bronze", "silver"]
    # Version 2: Bronze now needs a score of 0.9 (100001 has none); Gold needs 1 mentored.
    version = await publish(client, admin, rules(bronze_minimum_score=0.9, gold_mentored=1))
    pending = await job_of(client, admin, version)
    assert (pending["status"], pending["done"]) == ("pending", 0)
    steps = await jobs.run_pending_jobs(app.state.sessionmaker, "runner-a", chunk=1)
    assert steps[-1].finished and sum(s.granted for s in steps) == 1
    after = await awards_of(session, "100001")
    assert after[:2] == before  # Bronze and Silver stand under the version they were granted
    assert (after[2]["level"], after[2]["rulesVersion"]) == ("gold", version)
    done = await job_of(client, admin, version)
    assert (done["status"], done["done"], done["total"], done["granted"]) == ("done", 3, 3, 1)
    assert done["finishedAt"] is not None


async def test_the_job_resumes_after_a_crash_without_granting_twice(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_staff(client, admin, *PEOPLE[2:])
    course = await add_course(session)
    for number in PEOPLE:  # recorded straight into the table: nobody evaluated yet
        await add_completion(session, admin, number, course)
    version = await publish(client, admin, rules())
    started = utcnow()
    first = await jobs.run_step(app.state.sessionmaker, "runner-a", chunk=2, clock=lambda: started)
    assert first is not None and (first.evaluated, first.granted) == (2, 2)

    real = jobs.evaluate_people

    async def crash(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)  # grants written, then the process dies before commit
        raise RuntimeError("killed")

    monkeypatch.setattr(jobs, "evaluate_people", crash)
    with pytest.raises(RuntimeError):
        await jobs.run_step(app.state.sessionmaker, "runner-a", chunk=2, clock=lambda: started)
    monkeypatch.setattr(jobs, "evaluate_people", real)
    # Another process may not take the job while runner-a's lease lasts...
    lease_ends = started + jobs.LEASE
    assert (
        await jobs.run_step(app.state.sessionmaker, "runner-b", chunk=2, clock=lambda: lease_ends)
        is None
    )
    # ...and takes it over once the lease has run out.
    after_the_lease = lease_ends + timedelta(seconds=1)
    rest = await jobs.run_pending_jobs(
        app.state.sessionmaker, "runner-b", chunk=2, clock=lambda: after_the_lease
    )
    assert [s.evaluated for s in rest] == [2, 1, 0]
    for number in PEOPLE:
        assert [a["level"] for a in await awards_of(session, number)] == ["bronze"]
    done = await job_of(client, admin, version)
    assert (done["status"], done["done"], done["total"], done["granted"]) == ("done", 5, 5, 5)
    assert done["lastError"] is None
    assert await jobs.run_pending_jobs(app.state.sessionmaker, "runner-a") == []


async def test_the_background_runner_retries_a_failed_step_and_idles_once_done(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_staff(client, admin, *PEOPLE[2:])
    course = await add_course(session)
    for number in PEOPLE:
        await add_completion(session, admin, number, course)
    version = await publish(client, admin, rules())
    first = await jobs.run_step(app.state.sessionmaker, "background", chunk=2)
    assert first is not None and first.evaluated == 2  # the runner holds the job's lease
    real = jobs.evaluate_people

    async def fail_once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(jobs, "evaluate_people", real)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(jobs, "evaluate_people", fail_once)
    naps: list[float] = []
    napping, wake = asyncio.Event(), asyncio.Event()

    async def nap(seconds: float) -> None:
        """The runner's sleep: it says it is napping, and naps until the test wakes it."""
        naps.append(seconds)
        napping.set()
        await wake.wait()
        wake.clear()

    runner = asyncio.create_task(jobs.run_forever(app.state.sessionmaker, "background", sleep=nap))
    try:
        async with asyncio.timeout(PATIENCE):
            await napping.wait()
            assert naps == [jobs.RETRY_SECONDS]  # the failed step is retried after a while
            failed = await job_of(client, admin, version)
            assert failed["lastError"] == "RuntimeError: the database went away"
            assert failed["done"] == 2
            napping.clear()
            wake.set()
            await napping.wait()
            assert naps == [jobs.RETRY_SECONDS, jobs.IDLE_SECONDS]  # done: the runner idles
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    done = await job_of(client, admin, version)
    assert (done["status"], done["done"], done["granted"]) == ("done", 5, 5)
    assert done["lastError"] is None


async def test_a_newer_version_supersedes_the_running_job(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    second = await publish(client, admin, rules(gold_mentored=3))
    await jobs.run_step(app.state.sessionmaker, "runner-a", chunk=1)
    third = await publish(client, admin, rules(gold_mentored=1))
    assert (await job_of(client, admin, second))["status"] == "superseded"
    steps = await jobs.run_pending_jobs(app.state.sessionmaker, "runner-a", chunk=1)
    assert {s.rules_version for s in steps} == {third}
    assert (await job_of(client, admin, third))["status"] == "done"


async def test_there_is_no_job_for_the_seeded_version_or_an_unknown_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/awardRules/1/evaluation", headers=auth(admin))).status_code == 404
    assert (await client.get("/awardRules/9/evaluation", headers=auth(admin))).status_code == 404


async def test_the_preview_counts_by_organisation_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002")
    await add_staff(client, admin, "200002", organisation="7A6")
    course = await add_course(session)
    for number in ("100001", "200001", "200002"):
        await add_completion(session, admin, number, course)
    await add_approved_project(session, [("100001", "lead")])
    await add_approved_project(session, [("100002", "lead"), ("100001", "mentor")])
    await evaluate(session, "100001", "200001")  # 200002's completion not evaluated yet

    async def counts() -> tuple[int, int]:
        awards = await session.scalar(select(func.count(Award.id)))
        job_count = await session.scalar(select(func.count(AwardEvaluationJob.id)))
        await session.rollback()
        return int(awards or 0), int(job_count or 0)

    before = await counts()
    response = await client.post(
        "/awardRules/preview", json=rules(gold_mentored=1), headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["currentRulesVersion"], body["evaluated"]) == (1, 4)
    assert body["newlyReached"] == {"bronze": 1, "silver": 0, "gold": 1}
    assert body["organisations"] == [
        {"organisation": "7A4", "bronze": 0, "silver": 0, "gold": 1},
        {"organisation": "7A6", "bronze": 1, "silver": 0, "gold": 0},
    ]
    assert await counts() == before
    events = await client.get("/events?types=awardGranted", headers=auth(admin))
    assert len(events.json()["data"]) <= 3  # only the evaluation's own grants


async def test_a_limited_client_previews_its_own_organisations_only(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: Any, session: AsyncSession
) -> None:
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    limited = await make_client(["awards:read"], organisations=["7A6"])
    response = await client.post("/awardRules/preview", json=rules(), headers=auth(limited))
    assert response.status_code == 200, response.text
    assert response.json()["evaluated"] == 1
    assert response.json()["organisations"] == []
    bad = await client.post(
        "/awardRules/preview", json=rules(gold_mentored=0), headers=auth(limited)
    )
    assert bad.status_code == 422
    assert bad.json()["invalidParams"][0]["name"] == "levels.gold.minimumMentoredProjects"


async def test_a_rules_change_evaluates_only_people_it_could_grant_something(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002", "100003", "100004")
    course = await add_course(session)
    for number in ("100001", "100002", "100003"):
        await add_completion(session, admin, number, course)
    await add_approved_project(session, [("100003", "lead")])
    await evaluate(session, "100001", "100003")  # 100001 Bronze; 100003 Bronze and Silver
    ids = {n: await staff_id(session, n) for n in ("100001", "100002", "100003", "100004")}
    candidates = await gathering.may_gain(session, sorted(ids.values()))
    await session.rollback()
    # 100002 has a completion and no Bronze; 100003 is on a project and could reach Gold.
    assert candidates == [ids["100002"], ids["100003"]]
