"""Random sequences of starters, movers, leavers, award grants and revocations, completions
and their retractions (evaluated as the service evaluates them) and rules changes (with
everyone's re-evaluation), with the projection catching up at random points between them: once
it has caught up, every figure the summary gives (as of any date, and as a time series) equals
a plain recount over staff, history and awards."""

import copy
import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.evaluation import evaluate_awards
from app.awards.jobs import run_pending_jobs
from app.awards.rules_document import DEFAULT_RULES_JSON
from app.core.clock import UK, today, utcnow
from app.core.settings import get_settings
from app.models import (
    AwardEvaluationJob,
    AwardRules,
    Base,
    Completion,
    Course,
    Organisation,
    StaffHistory,
    StaffMember,
)
from app.models.award import Award
from app.staff.fields import StaffRow
from app.staff.writes import apply_staff_rows
from app.uptake.contributions import person_deltas
from app.uptake.projection import note_changed
from app.uptake.projection_jobs import catch_up
from app.uptake.repository import CellFilter, totals_as_of
from app.uptake.schemas import Interval
from app.uptake.service import periods, totals_at_ends
from app.uptake.summary import _stored_deltas, load_facts
from tests.depth import examples
from tests.uptake.factories import grant, recount

BASE = date(2020, 1, 1)
ORGS = ("7A4", "7A6")
GROUPS = ("03", "08")

person_op = st.tuples(
    st.just("person"),
    st.integers(0, 5),
    st.sampled_from(ORGS),
    st.sampled_from(GROUPS),
    st.booleans(),
    st.integers(-400, 1000),
    st.one_of(st.none(), st.integers(0, 900)),
)
grant_op = st.tuples(
    st.just("grant"), st.integers(0, 5), st.sampled_from(["bronze", "silver", "gold"]),
    st.integers(-200, 1200), st.integers(0, 23),
)  # fmt: skip
revoke_op = st.tuples(st.just("revoke"), st.integers(0, 5), st.integers(0, 600))
complete_op = st.tuples(st.just("complete"), st.integers(0, 5), st.integers(-200, 1200))
retract_op = st.tuples(st.just("retract"), st.integers(0, 5))
# A new rules version asking for this many Bronze courses, and everyone re-evaluated under it.
rules_op = st.tuples(st.just("rules"), st.integers(1, 2))
operations = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.one_of(person_op, grant_op, revoke_op, complete_op, retract_op, rules_op),
        st.booleans(),  # the projection catches up after it (the worker ran meanwhile)
    ),
    max_size=14,
)
COURSE = "IQT-BRONZE"
_completions = itertools.count(1)


async def _reset(session: AsyncSession) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        if not table.info.get("seeded_by_migration") and table.name not in (
            "organisations", "api_clients",
        ):  # fmt: skip
            await session.execute(delete(table))
    for code in ORGS:
        if not await session.scalar(select(Organisation.id).where(Organisation.ods_code == code)):
            session.add(Organisation(ods_code=code, name=code, type="healthBoard"))
    session.add(
        Course(
            code=COURSE, title="IQT e-learning", provider="Learning@Wales",
            counts_towards="bronze", pass_required=True, minimum_score=None,
        )
    )  # fmt: skip
    await session.commit()


def _row(number: str, org: str, group: str, board: bool, start: date, end: date | None) -> StaffRow:
    return StaffRow(number, "Siân", "Llŷr", None, org, group, None, board, start, end)


async def _apply(app: Any, session: AsyncSession, day: date, op: tuple[Any, ...]) -> None:
    kind, index = op[0], op[1]
    if kind == "rules":
        await _new_rules(app, session, minimum_courses=op[1])
        return
    number = f"P{index}"
    person_id = await session.scalar(
        select(StaffMember.id).where(StaffMember.employee_number == number)
    )
    if kind == "person":
        _, _, org, group, board, start_offset, length = op
        start = BASE + timedelta(days=start_offset)
        end = None if length is None else start + timedelta(days=length)
        await apply_staff_rows(
            session, None, [_row(number, org, group, board, start, end)], [1], effective_on=day
        )
        await session.commit()
    elif kind == "grant" and person_id is not None:
        _, _, level, offset, hour = op
        active = await session.scalar(
            select(Award.id).where(
                Award.staff_id == person_id, Award.level == level, Award.status == "active"
            )
        )
        if active is None:
            at = datetime.combine(BASE + timedelta(days=offset), time(hour), tzinfo=UTC)
            await grant(session, person_id, level, at)
    elif kind in ("complete", "retract") and person_id is not None:
        await _evidence(session, person_id, op)
    elif kind == "revoke" and person_id is not None:
        award = await session.scalar(
            select(Award).where(Award.staff_id == person_id, Award.status == "active").limit(1)
        )
        if award is not None:
            await session.execute(
                update(Award)
                .where(Award.id == award.id)
                .values(
                    status="revoked",
                    revoked_at=award.granted_at + timedelta(days=op[2], hours=5),
                    revoked_reason="test",
                    revocation_cause="administrator",
                )
            )
            await note_changed(session, [person_id])
            await session.commit()


async def _evidence(session: AsyncSession, person_id: int, op: tuple[Any, ...]) -> None:
    """A completion of the Bronze course, or the retraction of the person's latest, then
    the person evaluated as the completions service does, in one transaction."""
    if op[0] == "complete":
        course_id = await session.scalar(select(Course.id).where(Course.code == COURSE))
        session.add(
            Completion(
                client_id="property", external_id=f"c{next(_completions)}", channel="api",
                course_id=course_id, employee_number=f"P{op[1]}",
                completed_at=datetime.combine(BASE + timedelta(days=op[2]), time(9), tzinfo=UTC),
                passed=True, staff_id=person_id, match_status="matched",
            )
        )  # fmt: skip
    else:
        latest = await session.scalar(
            select(Completion)
            .where(Completion.staff_id == person_id, Completion.retracted_at.is_(None))
            .order_by(Completion.id.desc())
            .limit(1)
        )
        if latest is None:
            return
        latest.retracted_at, latest.retraction_reason = utcnow(), "Recorded in error."
    await session.flush()
    await evaluate_awards(session, [person_id], None)
    await session.commit()


async def _new_rules(app: Any, session: AsyncSession, *, minimum_courses: int) -> None:
    """A new rules version, and everyone re-evaluated under it by the rules-change job."""
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    document["levels"]["bronze"]["minimumCourses"] = minimum_courses
    version = int(await session.scalar(select(func.max(AwardRules.version))) or 0) + 1
    session.add(AwardRules(version=version, document=document, created_at=utcnow()))
    await session.flush()
    session.add(AwardEvaluationJob(rules_version=version, status="pending", total=0, done=0))
    await session.commit()
    await run_pending_jobs(app.state.sessionmaker, "property")


async def _caught_up(app: Any, session: AsyncSession) -> None:
    """The projection run until nothing is pending (the test's own transaction ended first:
    on SQLite every transaction holds the write lock)."""
    await session.commit()
    await catch_up(app.state.sessionmaker)


async def _change_days(session: AsyncSession) -> set[date]:
    """Every day on which something starts or stops, and the days either side of it."""
    days: set[date] = set()
    for start, end in await session.execute(select(StaffMember.start_date, StaffMember.end_date)):
        days |= {start, *([end] if end else [])}
    for valid_from, valid_to in await session.execute(
        select(StaffHistory.valid_from, StaffHistory.valid_to)
    ):
        days |= {valid_from, *([valid_to] if valid_to else [])}
    for granted, revoked in await session.execute(select(Award.granted_at, Award.revoked_at)):
        days |= {t.astimezone(UK).date() for t in (granted, revoked) if t is not None}
    around = {d + timedelta(days=n) for d in days for n in (-1, 0, 1)}
    return {d for d in around if d >= get_settings().uptake_programme_start}


def _nonzero(totals: dict[Any, tuple[int, ...]]) -> dict[Any, tuple[int, ...]]:
    return {k: tuple(v) for k, v in totals.items() if any(v)}


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=operations)
# Always among them: Bronze from a completion, its retraction, a completion that counts only
# under the next rules, and those rules, each counted by the projection before the next.
@example(
    steps=[
        (0, ("person", 0, "7A4", "03", False, 0, None), True),
        (5, ("complete", 0, 10), True),
        (5, ("retract", 0), True),
        (5, ("rules", 2), True),
        (5, ("complete", 0, 30), True),
        (5, ("complete", 0, 40), False),
        (5, ("rules", 1), False),
    ]
)
async def test_every_figure_equals_a_plain_recount(app: Any, steps: list[Any]) -> None:
    async with app.state.sessionmaker() as session:
        await _reset(session)
        day = BASE
        for gap, op, then_catch_up in steps:
            day += timedelta(days=gap)
            await _apply(app, session, day, op)
            if then_catch_up:
                await _caught_up(app, session)
        await _caught_up(app, session)
        checks = sorted(
            {BASE + timedelta(days=n) for n in range(-30, 2400, 37)}
            | {day, day + timedelta(1)}
            | await _change_days(session)
        )
        for check in checks:
            expected = await recount(session, check)
            assert _nonzero(await totals_as_of(session, check, CellFilter())) == expected, check
        ends = [end for _, end in periods(Interval.QUARTER, BASE, date(2026, 6, 30))]
        ends = [e for e in ends if e < today()] + [today()]
        series = await totals_at_ends(session, ends, CellFilter())
        for end, totals in zip(ends, series, strict=True):
            assert _nonzero(totals) == await recount(session, end), end
        await _stored_contributions_are_what_the_facts_give(session)
        await session.commit()


async def _stored_contributions_are_what_the_facts_give(session: AsyncSession) -> None:
    """Each person's stored rows are their contribution as computed from the facts now (a
    refresh writes only the rows that change, unless a stored day goes)."""
    people = list(await session.scalars(select(StaffMember.id)))
    facts = await load_facts(session, people)
    stored = await _stored_deltas(session, people)
    for staff_id in people:
        assert stored.get(staff_id, {}) == person_deltas(facts[staff_id]), staff_id
