"""Concurrent requests on PostgreSQL, each with its own session from the app."""

import asyncio
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import service
from app.completions.matching import match_unmatched_completions
from app.completions.records import completion_row
from app.completions.rows import CompletionRow
from app.completions.schemas import Channel
from app.core.clock import utcnow
from app.models import Completion, Course, StaffMember
from app.staff.events import StaffIdentified
from tests.completions.factories import (
    BRONZE,
    completion,
    count_completions,
    count_events,
    post,
    scalar,
)
from tests.conftest import auth, backend_pid, until_waiting_for_a_lock
from tests.staff.factories import person

pytestmark = pytest.mark.postgresql


async def test_concurrent_identical_posts_record_one_completion_and_one_event(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    responses = await asyncio.gather(*(post(client, platform, completion()) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1


async def test_concurrent_identical_batches_record_each_completion_once(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    records = [completion(f"b{i}", number=f"9{i:05d}") for i in range(50)]
    responses = await asyncio.gather(
        *(
            client.post("/completionBatches", json={"records": records}, headers=auth(platform))
            for _ in range(5)
        )
    )
    results = [r.json() for r in responses]
    assert sum(r["recorded"] for r in results) == 50
    assert all(r["recorded"] + r["unchanged"] == 50 for r in results)
    assert await count_completions(app) == 50
    assert await count_events(app, "completionRecorded") == 50


async def _person_not_yet_committed(session: AsyncSession, number: str) -> StaffIdentified:
    staff_id = await session.scalar(
        insert(StaffMember)
        .values(
            employee_number=number,
            given_name="Siân",
            family_name="Llŷr",
            work_email=None,
            work_email_key=None,
            organisation_ods_code="7A4",
            staff_group_code="03",
            board_member=False,
            start_date=date(2019, 4, 1),
        )
        .returning(StaffMember.id)
    )
    assert staff_id is not None
    return StaffIdentified(staff_id, number, None)


async def _completion_row(session: AsyncSession, client_id: str, number: str) -> CompletionRow:
    course_id = await session.scalar(select(Course.id).where(Course.code == BRONZE))
    now = utcnow()
    return completion_row(
        client_id=client_id,
        external_id=f"race-{number}",
        channel=Channel.API,
        course_id=course_id,
        course_code=BRONZE,
        employee_number=number,
        work_email=None,
        email_sha1=None,
        completed_at=now,
        passed=True,
        score_scaled=None,
        now=now,
    )


async def _match_status(app: Any, number: str) -> str:
    query = select(Completion.match_status).where(Completion.employee_number == number)
    return str(await scalar(app, query))


CALLER = Caller(client_id="", scopes=frozenset(), organisations=None, request_id="race")


async def test_a_completion_recorded_while_hr_sends_the_person_is_matched_by_the_hook(
    app: Any, platform: dict[str, str]
) -> None:
    """HR's transaction has the person but not yet run the hook; the platform's transaction
    records the completion, finds nobody, and is still open when the hook runs: the hook
    waits for it, then matches it."""
    caller = replace(CALLER, client_id=platform["client_id"])
    async with app.state.sessionmaker() as hr, app.state.sessionmaker() as lms:
        person = await _person_not_yet_committed(hr, "400001")
        hr_pid = await backend_pid(hr)
        row = await _completion_row(lms, caller.client_id, "400001")
        recorded = await service.record_completions(lms, caller, [row])
        assert recorded.created[0].match_status == "unmatched"
        hook = asyncio.create_task(match_unmatched_completions(hr, [person], None))
        await until_waiting_for_a_lock(app.state.engine, hr_pid, hook)
        await lms.commit()
        await hook
        await hr.commit()
    assert await _match_status(app, "400001") == "matched"


async def test_a_completion_recorded_after_the_hook_ran_finds_the_person(
    app: Any, platform: dict[str, str]
) -> None:
    """HR's transaction has run the hook (nothing to match) but not committed; the platform's
    transaction finds nobody, waits for HR's commit, then finds the person."""
    caller = replace(CALLER, client_id=platform["client_id"])
    async with app.state.sessionmaker() as hr, app.state.sessionmaker() as lms:
        person = await _person_not_yet_committed(hr, "400002")
        await match_unmatched_completions(hr, [person], None)
        row = await _completion_row(lms, caller.client_id, "400002")
        lms_pid = await backend_pid(lms)
        recording = asyncio.create_task(service.record_completions(lms, caller, [row]))
        await until_waiting_for_a_lock(app.state.engine, lms_pid, recording)
        await hr.commit()
        recorded = await recording
        await lms.commit()
    assert recorded.created[0].match_status == "matched"
    assert await _match_status(app, "400002") == "matched"
