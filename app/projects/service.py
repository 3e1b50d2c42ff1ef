"""Improvement projects: create, read, list, change, submit and withdraw.

Every change of state goes through the pure transition table in ``lifecycle``; what the table
refuses is a 409 naming the current state and the actions it allows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import AuditNote, Caller
from app.core.clock import utcnow
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problem_handlers import error_location
from app.core.problems import Conflict, Forbidden, NotFound, ValidationFailed
from app.events.bus import publish
from app.models.project import ImprovementProject
from app.organisations import repository as organisations
from app.projects import repository
from app.projects.events import ProjectCreated, ProjectEvent, ProjectSubmitted, ProjectWithdrawn
from app.projects.lifecycle import (
    ProjectAction,
    ProjectStatus,
    TransitionRefused,
    next_status,
)
from app.projects.repository import TeamRow
from app.projects.rubric import SubmissionFacts, missing_for_submission
from app.projects.schemas import ProjectFields, TeamMember
from app.staff.resolution import people_by_employee_number

RESOURCE = "improvementProject"


@dataclass(frozen=True)
class ProjectView:
    project: ImprovementProject
    team: list[TeamRow]


def _not_found(project_id: int) -> NotFound:
    return NotFound(f"No improvement project {project_id}.")


async def visible_project(
    session: AsyncSession, caller: Caller, project_id: int, *, lock: bool = False
) -> ImprovementProject:
    """The project, or 404 when it does not exist or belongs to an organisation the caller
    may not see (a restricted client learns nothing of other organisations' projects)."""
    project = await repository.get_project(session, project_id, lock=lock)
    if project is None or not caller.may_access(project.organisation_ods_code):
        raise _not_found(project_id)
    return project


def next_status_or_conflict(project: ImprovementProject, action: ProjectAction) -> ProjectStatus:
    try:
        return next_status(ProjectStatus(project.status), action)
    except TransitionRefused as refused:
        allowed = [str(a) for a in refused.allowed]
        raise Conflict(
            f"A project that is {refused.status} cannot {action}; allowed: "
            f"{', '.join(allowed) or 'nothing'}.",
            extensions={"currentState": str(refused.status), "allowedActions": allowed},
        ) from None


def _columns(fields: ProjectFields) -> dict[str, Any]:
    return {
        "title": fields.title,
        "organisation_ods_code": fields.organisation,
        "area": fields.area,
        "problem": fields.problem,
        "aim": fields.aim,
        "measures": [m.model_dump(mode="json", by_alias=True) for m in fields.measures],
        "changes": [c.model_dump(mode="json", by_alias=True) for c in fields.changes],
        "outcome": None if fields.outcome is None else str(fields.outcome),
        "learning": fields.learning,
        "sustainability_and_spread": fields.sustainability_and_spread,
        "links": [link.model_dump(mode="json", by_alias=True) for link in fields.links],
    }


def _wire(project: ImprovementProject, team: Sequence[TeamRow]) -> dict[str, Any]:
    """The stored project in its wire form, for merging a patch into."""
    return {
        "title": project.title,
        "organisation": project.organisation_ods_code,
        "area": project.area,
        "problem": project.problem,
        "aim": project.aim,
        "measures": project.measures,
        "changes": project.changes,
        "outcome": project.outcome,
        "learning": project.learning,
        "sustainabilityAndSpread": project.sustainability_and_spread,
        "team": [{"employeeNumber": number, "role": role} for number, role, _ in team],
        "links": project.links,
    }


async def _check_organisation(session: AsyncSession, caller: Caller, ods_code: str) -> None:
    if not caller.may_access(ods_code):
        raise Forbidden(f"This client may not place projects in organisation {ods_code}.")
    if await organisations.get_by_ods_code(session, ods_code) is None:
        raise ValidationFailed(
            f"Unknown organisation {ods_code}.",
            invalid_params=[("organisation", "No organisation with this ODS code.")],
        )


async def _resolve_team(
    session: AsyncSession,
    caller: Caller,
    team: Sequence[TeamMember],
    current: Sequence[TeamRow] = (),
) -> list[TeamRow]:
    """Looks the whole team up in one query, among the staff of the caller's organisations
    (people already on the team stay, wherever they are); 422 naming every employee number
    not found, whether unknown or of another organisation's staff."""
    found = await people_by_employee_number(
        session, caller.organisations, (m.employee_number for m in team)
    )
    known = {number: staff_id for number, _, staff_id in current}
    known.update({number: person.staff_id for number, person in found.items()})
    unknown = [(i, m.employee_number) for i, m in enumerate(team) if m.employee_number not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown staff: {', '.join(number for _, number in unknown)}.",
            invalid_params=[
                (f"team.{i}.employeeNumber", f"No staff member {number} is known to the service.")
                for i, number in unknown
            ],
        )
    return [(m.employee_number, str(m.role), known[m.employee_number]) for m in team]


async def create_project(
    session: AsyncSession, caller: Caller, fields: ProjectFields
) -> ProjectView:
    """Registers a draft project with its team."""
    note = len(caller.audit_notes)
    caller.note_audit("create", RESOURCE, None, fields.organisation)
    await _check_organisation(session, caller, fields.organisation)
    team = await _resolve_team(session, caller, fields.team)
    project = ImprovementProject(
        **_columns(fields),
        status=str(ProjectStatus.DRAFT),
        version=1,
        created_by_client_id=caller.client_id,
    )
    session.add(project)
    await session.flush()
    await repository.replace_team(session, project.id, [(s, r) for _, r, s in team])
    caller.audit_notes[note] = AuditNote("create", RESOURCE, str(project.id), fields.organisation)
    await publish_project_events(
        session,
        caller,
        [ProjectCreated(project.id, project.organisation_ods_code, project.status, project.title)],
    )
    return ProjectView(project, team)


async def get_project(session: AsyncSession, caller: Caller, project_id: int) -> ProjectView:
    project = await repository.get_project(session, project_id)
    if project is None or not caller.may_access(project.organisation_ods_code):
        caller.note_audit("read", RESOURCE, str(project_id), None)
        raise _not_found(project_id)
    caller.note_audit("read", RESOURCE, str(project_id), project.organisation_ods_code)
    return ProjectView(project, (await repository.teams_of(session, [project.id]))[project.id])


async def list_projects(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    organisation: str | None,
    status: ProjectStatus | None,
    employee_number: str | None,
    updated_since: datetime | None,
) -> PageResult[ProjectView]:
    """Projects visible to the caller; ``employee_number`` matches any role on the team."""
    caller.note_audit("list", RESOURCE, None, organisation)
    result = await repository.list_projects(
        session,
        page,
        visible_to=caller.organisations,
        organisation=organisation,
        status=None if status is None else str(status),
        employee_number=employee_number,
        updated_since=updated_since,
    )
    teams = await repository.teams_of(session, [p.id for p in result.items])
    return PageResult([ProjectView(p, teams[p.id]) for p in result.items], result.next_token)


async def patch_project(
    session: AsyncSession,
    caller: Caller,
    project_id: int,
    changes: dict[str, Any],
    if_match: str | None,
) -> ProjectView:
    """Applies a merge patch; If-Match is required. Approved and withdrawn projects are
    not editable."""
    project = await visible_project(session, caller, project_id, lock=True)
    caller.note_audit("update", RESOURCE, str(project_id), project.organisation_ods_code)
    check_if_match(if_match, project.version, required=True)
    next_status_or_conflict(project, ProjectAction.EDIT)
    team = (await repository.teams_of(session, [project.id]))[project.id]
    try:
        merged = ProjectFields.model_validate({**_wire(project, team), **changes})
    except ValidationError as exc:
        raise ValidationFailed(
            "The changed project is not valid.",
            invalid_params=[(error_location(e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    if merged.organisation != project.organisation_ods_code:
        await _check_organisation(session, caller, merged.organisation)
    columns = _columns(merged)
    changed = [name for name, value in columns.items() if getattr(project, name) != value]
    new_team = team
    if "team" in changes:
        new_team = await _resolve_team(session, caller, merged.team, team)
    team_changed = [(n, r) for n, r, _ in new_team] != [(n, r) for n, r, _ in team]
    if not changed and not team_changed:
        return ProjectView(project, team)
    for name in changed:
        setattr(project, name, columns[name])
    if team_changed:
        await repository.replace_team(session, project.id, [(s, r) for _, r, s in new_team])
    project.version += 1
    project.updated_at = utcnow()
    await session.flush()
    return ProjectView(project, new_team)


async def submit_project(
    session: AsyncSession, caller: Caller, project_id: int, if_match: str | None
) -> ProjectView:
    """Submits for review: 422 listing every field still missing."""
    project = await visible_project(session, caller, project_id, lock=True)
    caller.note_audit("submit", RESOURCE, str(project_id), project.organisation_ods_code)
    check_if_match(if_match, project.version)
    previous = project.status
    status = next_status_or_conflict(project, ProjectAction.SUBMIT)
    team = (await repository.teams_of(session, [project.id]))[project.id]
    facts = SubmissionFacts(
        problem=project.problem,
        aim=project.aim,
        changes=project.changes,
        outcome=project.outcome,
        learning=project.learning,
        roles=[role for _, role, _ in team],
    )
    missing = missing_for_submission(facts)
    if missing:
        raise ValidationFailed(
            f"The project cannot be submitted yet: {len(missing)} field(s) missing "
            f"({', '.join(name for name, _ in missing)}).",
            invalid_params=missing,
        )
    await move_project(session, project, status, submitted_at=utcnow())
    await publish_project_events(
        session,
        caller,
        [ProjectSubmitted(project.id, project.organisation_ods_code, project.status, previous)],
    )
    return ProjectView(project, team)


async def withdraw_project(
    session: AsyncSession, caller: Caller, project_id: int, if_match: str | None
) -> ProjectView:
    """Withdraws a project that is not yet approved."""
    project = await visible_project(session, caller, project_id, lock=True)
    caller.note_audit("withdraw", RESOURCE, str(project_id), project.organisation_ods_code)
    check_if_match(if_match, project.version)
    previous = project.status
    status = next_status_or_conflict(project, ProjectAction.WITHDRAW)
    await move_project(session, project, status, withdrawn_at=utcnow())
    await publish_project_events(
        session,
        caller,
        [ProjectWithdrawn(project.id, project.organisation_ods_code, project.status, previous)],
    )
    return ProjectView(project, (await repository.teams_of(session, [project.id]))[project.id])


async def move_project(
    session: AsyncSession, project: ImprovementProject, status: ProjectStatus, **stamps: Any
) -> None:
    project.status = str(status)
    for name, value in stamps.items():
        setattr(project, name, value)
    project.version += 1
    project.updated_at = utcnow()
    await session.flush()


async def publish_project_events(
    session: AsyncSession, caller: Caller, events: Sequence[ProjectEvent]
) -> None:
    """Publishes steps of projects' lifecycles (their payloads start with the new status)."""
    await publish(session, events, caller=caller)
