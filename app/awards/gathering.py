"""Gathering the facts the rules decide on, for a whole batch of people at once.

One query per kind of fact, whatever the number of people (never one per person): the people
themselves (locked for evaluation), their matched non-retracted completions with the course
codes, the approved projects on whose team they are with their role and the lead, and their
awards (active, and those an administrator revoked). The catalogue and rules documents are
loaded once per batch.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.awards.facts import (
    AwardFact,
    CompletionFact,
    CourseFact,
    Level,
    PersonFacts,
    ProjectFact,
    ProjectOutcome,
    ProjectRole,
)
from app.awards.rules_document import AwardRulesDocument
from app.core.bulk import BuiltOnce, column_in, execute_columns, in_parameter, is_postgresql
from app.models import (
    Award,
    AwardRules,
    Completion,
    Course,
    ImprovementProject,
    ProjectTeamMember,
    StaffMember,
)

LEVEL_VALUES = frozenset(str(level) for level in Level)


@dataclass(frozen=True)
class Person:
    """Who is evaluated: enough to write their awards' events and, with their dated history,
    to bring the uptake summary up to date."""

    id: int
    employee_number: str
    organisation: str
    staff_group: str
    board_member: bool
    start_date: date
    end_date: date | None


def _people_query() -> Any:
    return select(
        StaffMember.id,
        StaffMember.employee_number,
        StaffMember.organisation_ods_code,
        StaffMember.staff_group_code,
        StaffMember.board_member,
        StaffMember.start_date,
        StaffMember.end_date,
    ).order_by(StaffMember.id)


async def lock_people(session: AsyncSession, staff_ids: Sequence[int]) -> dict[int, Person]:
    """These people, locked in id order on PostgreSQL so two evaluations of one person queue
    (and never deadlock); SQLite writers are serialised already.

    The lock is FOR NO KEY UPDATE: it does not conflict with the FOR KEY SHARE locks that
    inserting a completion or an award (foreign keys to the person) takes first, so two
    requests that each inserted evidence for one person queue here instead of deadlocking."""
    rows = await execute_columns(session, _LOCK_PEOPLE(session), {"ids": list(staff_ids)})
    return {r[0]: Person(*r) for r in rows.all()}


def _lock_people_query(dialect: str) -> Any:
    query = _people_query().where(in_parameter(dialect, StaffMember.id, "ids"))
    return query.with_for_update(key_share=True) if dialect == "postgresql" else query


_LOCK_PEOPLE = BuiltOnce(_lock_people_query)


async def people_after(
    session: AsyncSession,
    after: int,
    limit: int,
    *,
    lock: bool,
    organisations: Iterable[str] | None = None,
) -> dict[int, Person]:
    """The next ``limit`` people by id after ``after`` (locked when ``lock``)."""
    query = _people_query().where(StaffMember.id > after).limit(limit)
    if organisations is not None:
        query = query.where(StaffMember.organisation_ods_code.in_(sorted(organisations)))
    if lock and is_postgresql(session):
        query = query.with_for_update(key_share=True)
    return {r[0]: Person(*r) for r in (await execute_columns(session, query)).all()}


async def ids_after(session: AsyncSession, after: int, limit: int) -> list[int]:
    query = select(StaffMember.id).where(StaffMember.id > after).order_by(StaffMember.id)
    return [r[0] for r in (await execute_columns(session, query.limit(limit))).all()]


async def may_gain(session: AsyncSession, staff_ids: Sequence[int]) -> list[int]:
    """Those of these people whom some rules could grant a level they do not hold: on an
    approved project's team and not holding all three levels, or holding no Bronze and having
    a completion. (Silver and Gold need a project, Bronze a completion.) A rules change is
    evaluated for them only: it grants, and never revokes."""
    member = StaffMember
    active = (Award.staff_id == member.id, Award.status == "active")
    on_project = (
        select(ProjectTeamMember.id)
        .join(ImprovementProject, ImprovementProject.id == ProjectTeamMember.project_id)
        .where(ProjectTeamMember.staff_id == member.id, ImprovementProject.status == "approved")
        .exists()
    )
    levels_held = select(func.count(Award.id)).where(*active).scalar_subquery()
    holds_bronze = select(Award.id).where(*active, Award.level == "bronze").exists()
    has_completion = (
        select(Completion.id)
        .where(
            Completion.staff_id == member.id,
            Completion.match_status == "matched",
            Completion.retracted_at.is_(None),
        )
        .exists()
    )
    query = (
        select(member.id)
        .where(
            column_in(session, member.id, staff_ids),
            or_(and_(on_project, levels_held < 3), and_(~holds_bronze, has_completion)),
        )
        .order_by(member.id)
    )
    return [r[0] for r in (await execute_columns(session, query)).all()]


async def course_catalogue(session: AsyncSession) -> dict[str, CourseFact]:
    rows = await execute_columns(session, _CATALOGUE)
    return {
        code: CourseFact(
            code=code,
            counts_towards=Level(towards) if towards in LEVEL_VALUES else None,
            pass_required=bool(pass_required),
            minimum_score=minimum,
        )
        for code, towards, pass_required, minimum in rows
    }


_CATALOGUE = select(Course.code, Course.counts_towards, Course.pass_required, Course.minimum_score)


async def rules_documents(
    session: AsyncSession, versions: Iterable[int]
) -> dict[int, AwardRulesDocument]:
    rows = await execute_columns(
        session,
        select(AwardRules.version, AwardRules.document).where(
            AwardRules.version.in_(sorted(set(versions)))
        ),
    )
    return {v: AwardRulesDocument.model_validate(d) for v, d in rows}


async def rules_in_force(
    session: AsyncSession, held: Iterable[int], *, version: int | None = None
) -> tuple[int, dict[int, AwardRulesDocument]]:
    """The version in force (``version``, or else the newest) and the documents of it and of
    the versions awards are ``held`` under: one query. Version 0 when there are no rules."""
    parameters: dict[str, Any] = {"held": sorted(set(held))}
    if version is not None:
        parameters["version"] = version
    query = _RULES_OF_VERSION if version is not None else _RULES_NEWEST
    rows = await execute_columns(session, query, parameters)
    documents, current = {}, version or 0
    for number, document, is_in_force in rows:
        documents[number] = AwardRulesDocument.model_validate(document)
        if is_in_force:
            current = number
    return current, documents


def _rules_query(in_force: Any) -> Any:
    return select(AwardRules.version, AwardRules.document, AwardRules.version == in_force).where(
        or_(
            AwardRules.version == in_force,
            AwardRules.version.in_(bindparam("held", expanding=True)),
        )
    )


_RULES_OF_VERSION = _rules_query(bindparam("version", type_=Integer()))
_RULES_NEWEST = _rules_query(select(func.max(AwardRules.version)).scalar_subquery())


async def gather_facts(session: AsyncSession, staff_ids: Sequence[int]) -> dict[int, PersonFacts]:
    """Every person's facts: four queries for the whole batch."""
    ids = {"ids": list(staff_ids)}
    completions: dict[int, list[CompletionFact]] = {}
    rows = await execute_columns(session, _COMPLETIONS(session), ids)
    for staff_id, completion_id, code, completed_at, passed, score in rows:
        if staff_id is not None:
            completions.setdefault(staff_id, []).append(
                CompletionFact(completion_id, code, completed_at, passed, score)
            )
    projects = await _projects(session, ids)
    active, refused, revoked = await _awards(session, ids)
    return {
        staff_id: PersonFacts(
            staff_id=staff_id,
            completions=tuple(completions.get(staff_id, ())),
            projects=tuple(projects.get(staff_id, ())),
            awards=tuple(active.get(staff_id, ())),
            revoked_by_administrator=tuple(refused.get(staff_id, ())),
            revoked_otherwise=tuple(revoked.get(staff_id, ())),
        )
        for staff_id in staff_ids
    }


_COMPLETIONS = BuiltOnce(
    lambda dialect: (
        select(
            Completion.staff_id,
            Completion.id,
            Course.code,
            Completion.completed_at,
            Completion.passed,
            Completion.score_scaled,
        )
        .join(Course, Course.id == Completion.course_id)
        .where(
            in_parameter(dialect, Completion.staff_id, "ids"),
            Completion.match_status == "matched",
            Completion.retracted_at.is_(None),
        )
    )
)


async def _projects(session: AsyncSession, ids: dict[str, Any]) -> dict[int, list[ProjectFact]]:
    rows = await execute_columns(session, _PROJECTS(session), ids)
    projects: dict[int, list[ProjectFact]] = {}
    for staff_id, project_id, approved_at, role, lead_id, outcome in rows:
        if approved_at is None or outcome is None:
            continue  # an approved project always has both; never trust a half-written row
        projects.setdefault(staff_id, []).append(
            ProjectFact(
                project_id, approved_at, ProjectRole(role), lead_id, ProjectOutcome(outcome)
            )
        )
    return projects


def _projects_query(dialect: str) -> Any:
    lead = aliased(ProjectTeamMember)
    return (
        select(
            ProjectTeamMember.staff_id,
            ImprovementProject.id,
            ImprovementProject.approved_at,
            ProjectTeamMember.role,
            lead.staff_id,
            ImprovementProject.outcome,
        )
        .join(ImprovementProject, ImprovementProject.id == ProjectTeamMember.project_id)
        .outerjoin(lead, (lead.project_id == ImprovementProject.id) & (lead.role == "lead"))
        .where(
            in_parameter(dialect, ProjectTeamMember.staff_id, "ids"),
            ImprovementProject.status == "approved",
        )
    )


_PROJECTS = BuiltOnce(_projects_query)


AwardsByPerson = dict[int, list[AwardFact]]


async def _awards(
    session: AsyncSession, ids: dict[str, Any]
) -> tuple[AwardsByPerson, AwardsByPerson, AwardsByPerson]:
    """Each person's active awards, awards an administrator revoked, and awards revoked
    otherwise (without their evidence: nothing looks at it)."""
    rows = await execute_columns(session, _AWARDS(session), ids)
    active: AwardsByPerson = {}
    refused: AwardsByPerson = {}
    revoked: AwardsByPerson = {}
    for (
        staff_id,
        award_id,
        level,
        attained_at,
        version,
        status,
        cause,
        revoked_at,
        evidence,
    ) in rows:
        if status == "active" or cause == "administrator":
            fact = AwardFact(
                id=award_id,
                level=Level(level),
                attained_at=attained_at,
                rules_version=version,
                completion_ids=frozenset(evidence.get("completionIds") or ()),
                project_ids=frozenset(evidence.get("projectIds") or ()),
                revoked_at=revoked_at,
            )
            (active if status == "active" else refused).setdefault(staff_id, []).append(fact)
        else:
            fact = AwardFact(award_id, Level(level), attained_at, version, revoked_at=revoked_at)
            revoked.setdefault(staff_id, []).append(fact)
    return active, refused, revoked


_AWARDS = BuiltOnce(
    lambda dialect: select(
        Award.staff_id,
        Award.id,
        Award.level,
        Award.attained_at,
        Award.rules_version,
        Award.status,
        Award.revocation_cause,
        Award.revoked_at,
        # The evidence only where the rules look at it: a JSON document decoded is the
        # costliest column of the query.
        case(
            (or_(Award.status == "active", Award.revocation_cause == "administrator"),
             Award.evidence),
        ),
    ).where(in_parameter(dialect, Award.staff_id, "ids"))
)  # fmt: skip
