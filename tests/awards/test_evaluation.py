"""evaluate_awards on both databases: Bronze from a completion, revoked with cascade when it is
retracted, Silver from an approved project, Gold from two mentored ones, events and uptake."""

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards import gathering
from app.awards.evaluation import evaluate_awards
from app.models import Award, UptakePersonDelta
from app.uptake.contributions import person_deltas
from app.uptake.projection import note_changed
from app.uptake.summary import _stored_deltas, load_facts
from tests.awards.conftest import staff_id
from tests.awards.evidence import (
    active_levels,
    add_approved_project,
    add_completion,
    add_course,
    add_staff,
    at,
    awards_of,
    evaluate,
    feed,
    retract,
)
from tests.conftest import CatchUp


async def test_a_passed_completion_grants_bronze_once_with_its_evidence_and_an_event(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    course = await add_course(session)
    completion = await add_completion(session, admin, "100001", course, on=2)
    await evaluate(session, "100001")
    await evaluate(session, "100001")  # again: nothing more
    [bronze] = await awards_of(session, "100001")
    assert (bronze["level"], bronze["status"], bronze["rulesVersion"]) == ("bronze", "active", 1)
    assert bronze["attainedAt"] == at(2)
    assert bronze["evidence"]["completionIds"] == [completion]
    [event] = await feed(client, admin, "awardGranted")
    assert event["resourceId"] == str(bronze["id"])
    assert event["organisation"] == "7A4"
    assert event["data"]["employeeNumber"] == "100001"
    assert event["data"]["level"] == "bronze"
    assert event["data"]["evidence"]["completionIds"] == [completion]
    await session.commit()
    await caught_up()
    held = await session.scalar(
        select(func.sum(UptakePersonDelta.bronze)).where(
            UptakePersonDelta.staff_id == await staff_id(session, "100001")
        )
    )
    assert held == 1


async def test_a_failed_completion_or_a_course_that_does_not_count_grants_nothing(
    admin: dict[str, str], session: AsyncSession
) -> None:
    bronze = await add_course(session)
    other = await add_course(session, "FIRE-SAFETY", counts_towards=None)
    await add_completion(session, admin, "100001", bronze, passed=False)
    await add_completion(session, admin, "100001", other)
    await evaluate(session, "100001")
    assert await awards_of(session, "100001") == []


async def test_an_approved_project_grants_silver_even_when_the_outcome_was_worse(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    project = await add_approved_project(session, [("100001", "lead")], on=10, outcome="worse")
    await evaluate(session, "100001")
    awards = await awards_of(session, "100001")
    assert active_levels(awards) == ["bronze", "silver"]
    assert awards[1]["evidence"]["projectIds"] == [project]
    assert awards[1]["attainedAt"] == at(10)
    assert len(await feed(client, admin, "awardGranted", 2)) == 2


async def test_two_mentored_approvals_of_others_projects_grant_gold(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    await add_staff(client, admin, "100002", "100003")
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    await add_approved_project(session, [("100001", "lead")], on=5)
    await add_approved_project(session, [("100002", "lead"), ("100001", "mentor")], on=20)
    await evaluate(session, "100001")
    assert active_levels(await awards_of(session, "100001")) == ["bronze", "silver"]
    await add_approved_project(session, [("100003", "lead"), ("100001", "mentor")], on=30)
    await evaluate(session, "100001", "100002", "100003")
    awards = await awards_of(session, "100001")
    assert active_levels(awards) == ["bronze", "silver", "gold"]
    assert awards[2]["attainedAt"] == at(30)
    # The leads have no Bronze, so their projects earn them nothing yet.
    assert await awards_of(session, "100002") == []


async def test_a_retraction_revokes_bronze_and_cascades_to_silver(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    course = await add_course(session)
    completion = await add_completion(session, admin, "100001", course)
    await add_approved_project(session, [("100001", "member")])
    await evaluate(session, "100001")
    bronze, silver = await awards_of(session, "100001")
    await retract(session, completion)
    await evaluate(session, "100001")
    awards = await awards_of(session, "100001")
    assert [(a["level"], a["status"], a["cause"]) for a in awards] == [
        ("bronze", "revoked", "evidenceRetracted"),
        ("silver", "revoked", "levelBelowRevoked"),
    ]
    events = await feed(client, admin, "awardRevoked", 2)
    assert [e["resourceId"] for e in events] == [str(bronze["id"]), str(silver["id"])]
    assert events[1]["data"]["cascadedFrom"] == bronze["id"]
    assert events[1]["data"]["reason"] == "The Bronze award it needed was revoked."
    await session.commit()
    await caught_up()
    held = await session.scalar(
        select(func.sum(UptakePersonDelta.bronze)).where(
            UptakePersonDelta.staff_id == await staff_id(session, "100001")
        )
    )
    assert not held


async def test_evidence_arriving_after_a_retraction_grants_a_new_award(
    admin: dict[str, str], session: AsyncSession
) -> None:
    course = await add_course(session)
    first = await add_completion(session, admin, "100001", course)
    await evaluate(session, "100001")
    await retract(session, first)
    await evaluate(session, "100001")
    second = await add_completion(session, admin, "100001", course, on=50)
    await evaluate(session, "100001")
    awards = await awards_of(session, "100001")
    assert [(a["level"], a["status"]) for a in awards] == [
        ("bronze", "revoked"),
        ("bronze", "active"),
    ]
    assert awards[1]["evidence"]["completionIds"] == [second]


async def test_the_uptake_an_evaluation_writes_from_what_it_gathered_is_what_the_facts_give(
    admin: dict[str, str], session: AsyncSession, caught_up: CatchUp
) -> None:
    """Once the projection has caught up with the evaluations, the uptake stored for the
    person is what the facts give; a revoked award (here one revoked for retracted evidence,
    before a new grant) still counts for the days it was held."""
    course = await add_course(session)
    first = await add_completion(session, admin, "100001", course)
    await evaluate(session, "100001")
    await retract(session, first)
    await evaluate(session, "100001")
    await add_completion(session, admin, "100001", course, on=50)
    await evaluate(session, "100001")
    await caught_up()
    person = await staff_id(session, "100001")
    stored = await _stored_deltas(session, [person])
    facts = await load_facts(session, [person])
    assert len(facts[person].awards) == 2
    assert stored[person] == person_deltas(facts[person])


async def test_a_grant_another_transaction_made_first_is_counted_as_it_was_stored(
    admin: dict[str, str],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caught_up: CatchUp,
) -> None:
    """When the partial unique index keeps another transaction's grant instead of the planned
    one (here one on day 30, hidden from the gathering, where the plan grants on day 0), the
    person is counted from what is stored."""
    course = await add_course(session)
    await add_completion(session, admin, "100001", course)
    person = await staff_id(session, "100001")
    session.add(
        Award(
            staff_id=person,
            level="bronze",
            granted_at=at(30),
            evidence={"completionIds": [], "projectIds": [], "legacyReference": "x"},
            status="active",
        )
    )
    await note_changed(session, [person])  # as that transaction's grant announces it
    await session.commit()
    gather = gathering.gather_facts

    async def gathered_before_that_grant(*args: Any, **kwargs: Any) -> Any:
        facts = await gather(*args, **kwargs)
        return {i: replace(f, awards=()) for i, f in facts.items()}

    monkeypatch.setattr(gathering, "gather_facts", gathered_before_that_grant)
    await evaluate(session, "100001")
    assert [(a["level"], a["status"]) for a in await awards_of(session, "100001")] == [
        ("bronze", "active")
    ]
    await session.commit()
    await caught_up()
    stored = await _stored_deltas(session, [person])
    facts = await load_facts(session, [person])
    assert len(facts[person].awards) == 1
    assert stored[person] == person_deltas(facts[person])


async def test_a_retracted_completion_whose_level_other_evidence_still_meets_revokes_nothing(
    admin: dict[str, str], session: AsyncSession
) -> None:
    course = await add_course(session)
    first = await add_completion(session, admin, "100001", course)
    await add_completion(session, admin, "100001", course, on=3)
    await evaluate(session, "100001")
    await retract(session, first)
    await evaluate(session, "100001")
    assert [a["status"] for a in await awards_of(session, "100001")] == ["active"]


async def test_many_people_are_evaluated_together(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    numbers = [f"1100{i:02d}" for i in range(30)]
    await add_staff(client, admin, *numbers)
    course = await add_course(session)
    for number in numbers[::2]:
        await add_completion(session, admin, number, course)
    await evaluate(session, *numbers, "100001")
    held = [n for n in numbers if active_levels(await awards_of(session, n)) == ["bronze"]]
    assert held == numbers[::2]


@pytest.mark.postgresql
async def test_fifty_concurrent_evaluations_of_one_qualified_person_grant_one_bronze(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    course = await add_course(session)
    for day in range(50):
        await add_completion(session, admin, "100001", course, on=day)
    person = await staff_id(session, "100001")
    await session.rollback()

    async def evaluate_in_own_session() -> None:
        async with app.state.sessionmaker() as own:
            await evaluate_awards(own, [person], None)
            await own.commit()

    await asyncio.gather(*(evaluate_in_own_session() for _ in range(50)))
    awards = await awards_of(session, "100001")
    assert [(a["level"], a["status"]) for a in awards] == [("bronze", "active")]
    assert len(await feed(client, admin, "awardGranted")) == 1
