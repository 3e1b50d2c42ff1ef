"""Improvement projects over HTTP: register, read, list, change, submit, withdraw."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.etag import REQUIRED_IF_MATCH, IfMatch, RequiredIfMatch, etag_for
from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN, ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.core.schemas import IsoDateTime
from app.projects import service
from app.projects.lifecycle import ProjectStatus, allowed_actions
from app.projects.parameters import (
    ETAG_HEADER,
    ORGANISATION_FORBIDDEN,
    STATE_CONFLICT,
    ProjectId,
    problems,
)
from app.projects.review_router import router as review_router
from app.projects.schemas import ProjectFields, ProjectPage, ProjectPatch, ProjectRead
from app.projects.service import ProjectView

router = APIRouter(route_class=SessionRoute, tags=["Improvement projects"])


def _read(view: ProjectView) -> ProjectRead:
    project = view.project
    return ProjectRead.model_validate(
        {
            "id": project.id,
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
            "team": [{"employeeNumber": number, "role": role} for number, role, _ in view.team],
            "links": project.links,
            "status": project.status,
            "allowedActions": allowed_actions(ProjectStatus(project.status)),
            "submittedAt": project.submitted_at,
            "approvedAt": project.approved_at,
            "withdrawnAt": project.withdrawn_at,
            "createdAt": project.created_at,
            "updatedAt": project.updated_at,
        }
    )


def _with_etag(response: Response, view: ProjectView) -> ProjectRead:
    response.headers["ETag"] = etag_for(view.project.version)
    return _read(view)


@router.post(
    "/improvementProjects",
    summary="Register an improvement project",
    status_code=201,
    response_model=ProjectRead,
    responses={
        201: {
            "headers": {
                **ETAG_HEADER,
                "Location": {"schema": {"type": "string", "maxLength": 2048}},
            }
        },
        **problems(*AUTHENTICATED, 413, 422, described={403: ORGANISATION_FORBIDDEN}),
    },
)
async def create_improvement_project(
    body: ProjectFields,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_WRITE)],
) -> ProjectRead:
    """Registers a draft project; team members must be staff known to the service (422). A
    client limited to some organisations names only their staff (anyone else is unknown, 422);
    a team across organisations, such as a mentor from another health board, is registered or
    changed by a client with no organisation restriction (e.g. the national QI team)."""
    view = await service.create_project(session, caller, body)
    response.headers["Location"] = str(
        request.url_for("get_improvement_project", projectId=view.project.id)
    )
    return _with_etag(response, view)


@router.get(
    "/improvementProjects",
    summary="List improvement projects",
    response_model=ProjectPage,
    responses=problems(*AUTHENTICATED, 422),
)
async def list_improvement_projects(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_READ)],
    page: Annotated[PageRequest, page_request("improvementProjects")],
    organisation: Annotated[str | None, Query(pattern=ODS_CODE_PATTERN)] = None,
    status: Annotated[ProjectStatus | None, Query()] = None,
    employee_number: Annotated[
        str | None,
        Query(
            alias="employeeNumber",
            pattern=EMPLOYEE_NUMBER_PATTERN,
            description="Projects with this person on the team, in any role.",
        ),
    ] = None,
    updated_since: Annotated[
        IsoDateTime | None,
        Query(alias="updatedSince", description="Changed at or after (RFC 3339), for sync."),
    ] = None,
) -> ProjectPage:
    """Projects visible to this client in a stable order; sync with `updatedSince`."""
    result = await service.list_projects(
        session,
        caller,
        page,
        organisation=organisation,
        status=status,
        employee_number=employee_number,
        updated_since=updated_since,
    )
    return ProjectPage(
        data=[_read(view) for view in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )


@router.get(
    "/improvementProjects/{projectId}",
    summary="Get an improvement project",
    response_model=ProjectRead,
    responses={200: {"headers": ETAG_HEADER}, **problems(*AUTHENTICATED, 404, 422)},
)
async def get_improvement_project(
    project_id: ProjectId,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_READ)],
) -> ProjectRead:
    """One project with its team, state and allowed actions, and the ETag for If-Match."""
    return _with_etag(response, await service.get_project(session, caller, project_id))


@router.patch(
    "/improvementProjects/{projectId}",
    summary="Change some fields of an improvement project",
    response_model=ProjectRead,
    responses={
        200: {"headers": ETAG_HEADER},
        **problems(
            *AUTHENTICATED,
            404,
            409,
            412,
            413,
            422,
            428,
            described={403: ORGANISATION_FORBIDDEN, 409: STATE_CONFLICT},
        ),
    },
    openapi_extra=REQUIRED_IF_MATCH,
)
async def patch_improvement_project(
    project_id: ProjectId,
    body: ProjectPatch,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_WRITE)],
    if_match: RequiredIfMatch = None,
) -> ProjectRead:
    """Changes the fields sent (merge patch; lists replaced whole). If-Match is required: 428
    without it, 412 when stale. Approved and withdrawn projects are not editable (409). A new
    team member is found among the staff of the client's organisations (422 otherwise); those
    already on the team may stay, whichever organisation they are in."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    view = await service.patch_project(session, caller, project_id, changes, if_match)
    return _with_etag(response, view)


@router.post(
    "/improvementProjects/{projectId}/submission",
    summary="Submit an improvement project for review",
    response_model=ProjectRead,
    responses={
        200: {"description": "Submitted.", "headers": ETAG_HEADER},
        **problems(*AUTHENTICATED, 404, 409, 412, 422, described={409: STATE_CONFLICT}),
    },
)
async def submit_improvement_project(
    project_id: ProjectId,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_WRITE)],
    if_match: IfMatch = None,
) -> ProjectRead:
    """From draft or returned: 422 lists every missing field at once (lead, problem, aim,
    changes, outcome, learning)."""
    view = await service.submit_project(session, caller, project_id, if_match)
    return _with_etag(response, view)


@router.post(
    "/improvementProjects/{projectId}/withdrawal",
    summary="Withdraw an improvement project",
    response_model=ProjectRead,
    responses={
        200: {"description": "Withdrawn.", "headers": ETAG_HEADER},
        **problems(*AUTHENTICATED, 404, 409, 412, 422, described={409: STATE_CONFLICT}),
    },
)
async def withdraw_improvement_project(
    project_id: ProjectId,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_WRITE)],
    if_match: IfMatch = None,
) -> ProjectRead:
    """From draft, submitted or returned; an approved project cannot be withdrawn (409)."""
    view = await service.withdraw_project(session, caller, project_id, if_match)
    return _with_etag(response, view)


router.include_router(review_router)
