"""The one entry point every change of evidence leads to: re-evaluate these people's awards.

The handlers of completion and project events (``app/awards/handlers.py``) call
``evaluate_awards`` in the same transaction as the change; the rules-change job calls
``evaluate_people`` for each chunk of everyone. For a whole batch, with a few set-based queries:

1. lock the people (``SELECT ... FOR NO KEY UPDATE`` in id order on PostgreSQL) and gather
   their facts (``app/awards/gathering.py``);
2. decide and plan the difference under the current rules (``changes.plan_award_changes``,
   pure);
3. write revocations (one ``UPDATE`` per reason), new dates of awards whose evidence moved
   (one ``UPDATE`` for all), and grants (one ``INSERT ... ON CONFLICT DO NOTHING`` on the
   partial unique index "one active award per (person, level)", so a grant another
   transaction made first is skipped, never duplicated and never an error), publish their
   ``AwardRevoked`` / ``AwardRedated`` / ``AwardGranted`` events (their handlers revoke
   credentials and note the holders for the uptake figures, which the projection worker
   refreshes off the request path). A grant is attained when its evidence says and granted
   now.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import gathering
from app.awards.changes import (
    LEVEL_BELOW_REVOKED,
    AwardChanges,
    may_change,
    plan_award_changes,
)
from app.awards.events import (
    AwardEvent,
    AwardEvidence,
    AwardGranted,
    AwardRedated,
    AwardRevoked,
)
from app.awards.facts import CourseFact, PersonFacts
from app.awards.gathering import Person
from app.awards.rules import counting_courses
from app.awards.rules_document import AwardRulesDocument
from app.core.bulk import BuiltOnce, column_in, dialect_insert, insert_rows
from app.core.clock import utcnow
from app.core.metrics import AWARDS_GRANTED, AWARDS_REVOKED, count_each_on_commit
from app.events.bus import publish
from app.models import Award, AwardRules

# A whole batch (at most 10,000 records) in one pass: each pass runs a dozen statements
# whatever its size, and with 2,000 a 10,000-record batch spent 0.2 s more on them.
CHUNK = 10_000
EVIDENCE_RETRACTED_REASON = (
    "Evidence it was granted on was retracted, and its level is no longer reached."
)


@dataclass
class EvaluationOutcome:
    granted: int = 0
    revoked: int = 0


async def evaluate_awards(
    session: AsyncSession, staff_ids: Sequence[int], caller: Caller | None
) -> None:
    """Re-evaluates the awards of these staff members, in the caller's transaction."""
    ids = sorted(set(staff_ids))
    for start in range(0, len(ids), CHUNK):
        people = await gathering.lock_people(session, ids[start : start + CHUNK])
        await evaluate_people(session, people, caller)


async def current_rules_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(AwardRules.version))) or 0)


async def evaluate_people(
    session: AsyncSession,
    people: Mapping[int, Person],
    caller: Caller | None,
    *,
    rules_version: int | None = None,
) -> EvaluationOutcome:
    """Evaluates these (already locked) people under ``rules_version`` (default: current)
    and writes the difference."""
    outcome = EvaluationOutcome()
    if not people:
        return outcome
    facts = await gathering.gather_facts(session, list(people))
    held = {a.rules_version for f in facts.values() for a in f.awards if a.rules_version}
    version, rules = await gathering.rules_in_force(session, held, version=rules_version)
    courses = await gathering.course_catalogue(session)
    plans = _plan(facts, rules, version, courses)
    if not plans:
        return outcome
    now = utcnow()
    _, revocations = await _revoke(session, plans, people, now, outcome)
    changes: list[AwardEvent] = [*revocations, *await _redate(session, plans, people, now)]
    rows = _grant_rows(plans, now)
    inserted = await _insert_grants(session, rows)
    changes += _granted(inserted, rows, people, outcome)
    _count_changes(session, changes)
    await publish(session, changes, caller=caller)
    return outcome


def _plan(
    facts: Mapping[int, PersonFacts],
    rules: Mapping[int, AwardRulesDocument],
    version: int,
    courses: Mapping[str, CourseFact],
) -> dict[int, AwardChanges]:
    """The changes to each person's awards under the rules in force (pure)."""
    current = rules.get(version)
    bronze_courses = counting_courses(current.levels.bronze, courses) if current else None
    plans: dict[int, AwardChanges] = {}
    for staff_id, person in facts.items():
        if not may_change(person):
            continue  # no rules could grant or revoke anything
        changes = plan_award_changes(
            person,
            rules=rules,
            current_version=version,
            courses=courses,
            bronze_courses=bronze_courses,
        )
        if not changes.empty:
            plans[staff_id] = changes
    return plans


async def _revoke(
    session: AsyncSession,
    plans: Mapping[int, AwardChanges],
    people: Mapping[int, Person],
    now: datetime,
    outcome: EvaluationOutcome,
) -> tuple[set[int], list[AwardRevoked]]:
    """Revokes the planned awards: the ids of those revoked, and their events. An award
    another transaction revoked first (its UPDATE found it no longer active) has neither: an
    event says something changed, and this evaluation changed nothing of it."""
    by_reason: dict[tuple[str, str], list[int]] = {}
    events: dict[int, AwardRevoked] = {}
    for staff_id, plan in plans.items():
        levels = {r.award_id: r.level for r in plan.revocations}
        for revocation in plan.revocations:
            reason = EVIDENCE_RETRACTED_REASON
            if revocation.cause == LEVEL_BELOW_REVOKED and revocation.cascaded_from in levels:
                below = levels[revocation.cascaded_from].label
                reason = f"The {below} award it needed was revoked."
            by_reason.setdefault((revocation.cause, reason), []).append(revocation.award_id)
            person = people[staff_id]
            events[revocation.award_id] = AwardRevoked(
                award_id=revocation.award_id,
                organisation=person.organisation,
                staff_id=staff_id,
                employee_number=person.employee_number,
                level=str(revocation.level),
                reason=reason,
                cause=revocation.cause,
                cascaded_from=revocation.cascaded_from,
            )
    revoked: set[int] = set()
    for (cause, reason), award_ids in by_reason.items():
        result = await session.execute(
            update(Award)
            .where(column_in(session, Award.id, award_ids), Award.status == "active")
            .values(
                status="revoked",
                revoked_at=now,
                revoked_reason=reason,
                revocation_cause=cause,
                updated_at=now,
            )
            .returning(Award.id)
        )
        revoked.update(result.scalars())
    outcome.revoked += len(revoked)
    return revoked, [event for award_id, event in events.items() if award_id in revoked]


async def _redate(
    session: AsyncSession,
    plans: Mapping[int, AwardChanges],
    people: Mapping[int, Person],
    now: datetime,
) -> list[AwardRedated]:
    """Dates the planned awards again from their evidence (one statement): the events. The
    people are locked, so the awards are as gathered."""
    rows: list[dict[str, Any]] = []
    events: list[AwardRedated] = []
    for staff_id, plan in plans.items():
        for redating in plan.redatings:
            evidence = {
                "completionIds": list(redating.completion_ids),
                "projectIds": list(redating.project_ids),
                "legacyReference": None,
            }
            rows.append(
                {
                    "award_id": redating.award_id,
                    "new_attained_at": redating.attained_at,
                    "new_evidence": evidence,
                    "changed_at": now,
                }
            )
            person = people[staff_id]
            events.append(
                AwardRedated(
                    award_id=redating.award_id,
                    organisation=person.organisation,
                    staff_id=staff_id,
                    employee_number=person.employee_number,
                    level=str(redating.level),
                    attained_at=redating.attained_at,
                    previous_attained_at=redating.previous_attained_at,
                    cause=redating.cause,
                    evidence=AwardEvidence.of(evidence),
                )
            )
    if rows:
        await session.execute(_REDATE, rows)
    return events


_AWARDS_TABLE: Any = Award.__table__
_REDATE = (
    update(_AWARDS_TABLE)
    .where(_AWARDS_TABLE.c.id == bindparam("award_id"))
    .values(
        attained_at=bindparam("new_attained_at", type_=_AWARDS_TABLE.c.attained_at.type),
        evidence=bindparam("new_evidence", type_=_AWARDS_TABLE.c.evidence.type),
        updated_at=bindparam("changed_at", type_=_AWARDS_TABLE.c.updated_at.type),
    )
)


def _grant_rows(plans: Mapping[int, AwardChanges], now: datetime) -> list[dict[str, Any]]:
    """The awards rows of the planned grants: attained when the evidence says, granted now."""
    return [
        {
            "staff_id": staff_id,
            "level": str(grant.level),
            "attained_at": grant.attained_at,
            "granted_at": now,
            "rules_version": grant.rules_version,
            "evidence": {
                "completionIds": list(grant.completion_ids),
                "projectIds": list(grant.project_ids),
                "legacyReference": None,
            },
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        for staff_id, plan in plans.items()
        for grant in plan.grants
    ]


async def _insert_grants(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[int, str], int]:
    """Inserts the grants: the award id of each inserted, by (staff id, level)."""
    if not rows:
        return {}
    result = await insert_rows(session, Award.__table__, rows, statement=_GRANT(session))
    return {(staff_id, level): award_id for award_id, staff_id, level in result.all()}


def _granted(
    inserted: Mapping[tuple[int, str], int],
    rows: Sequence[dict[str, Any]],
    people: Mapping[int, Person],
    outcome: EvaluationOutcome,
) -> list[AwardGranted]:
    """The events of the grants inserted."""
    events = []
    for row in rows:
        award_id = inserted.get((row["staff_id"], row["level"]))
        if award_id is None:
            continue  # another transaction granted this level first: the index kept one
        person = people[row["staff_id"]]
        events.append(
            AwardGranted(
                award_id=award_id,
                organisation=person.organisation,
                staff_id=row["staff_id"],
                employee_number=person.employee_number,
                level=row["level"],
                attained_at=row["attained_at"],
                granted_at=row["granted_at"],
                rules_version=row["rules_version"],
                evidence=AwardEvidence.of(row["evidence"]),
            )
        )
    outcome.granted += len(events)
    return events


_GRANT = BuiltOnce(
    lambda dialect: (
        dialect_insert(dialect, Award.__table__)
        .on_conflict_do_nothing(
            index_elements=["staff_id", "level"], index_where=text("status = 'active'")
        )
        .returning(Award.__table__.c.id, Award.__table__.c.staff_id, Award.__table__.c.level)
    )
)


def _count_changes(session: AsyncSession, events: Sequence[AwardEvent]) -> None:
    """Grants and revocations, counted by level (and cause) on commit."""
    count_each_on_commit(
        session, AWARDS_GRANTED, ((e.level, "rules") for e in events if isinstance(e, AwardGranted))
    )
    count_each_on_commit(
        session,
        AWARDS_REVOKED,
        ((e.level, e.cause) for e in events if isinstance(e, AwardRevoked)),
    )
