from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.personal_data import service
from app.personal_data.jobs import background_runner
from app.personal_data.schemas import (
    ErasureRequestIn,
    ErasureRequestRead,
    PersonalDataExport,
    RetentionRead,
)
from app.staff.parameters import EmployeeNumberPath

# Its lifespan runs the retention sweeps in the background (app/personal_data/jobs.py).
router = APIRouter(route_class=SessionRoute, tags=["Staff"], lifespan=background_runner)


@router.get(
    "/staff/{employeeNumber}/personalData",
    summary="Export everything held about a person (subject access)",
    response_model=PersonalDataExport,
    responses={
        200: {
            "headers": {
                "Content-Disposition": {
                    "description": "With `download=true`: an attachment to save.",
                    "schema": {"type": "string", "maxLength": 200},
                }
            }
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
)
async def export_personal_data(
    employee_number: EmployeeNumberPath,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PERSONAL_DATA_READ)],
    download: Annotated[
        bool, Query(description="true: answered as a file to save (Content-Disposition).")
    ] = False,
) -> PersonalDataExport:
    """The staff record and its history, completions and the xAPI statements naming them or
    making those completions, the xAPI documents kept about them, projects and roles, reviews
    given, awards with evidence, corrections, erasure requests, audit records of who read or
    changed their data and the events naming them, with the purposes and the retention rule,
    as one document (UK GDPR article 15). Every export is audited and announced
    (`personalDataExported`)."""
    export = await service.export_personal_data(
        session, caller, request.app.state.settings, employee_number
    )
    if download:
        response.headers["Content-Disposition"] = (
            f'attachment; filename="personal-data-{employee_number}.json"'
        )
    return PersonalDataExport(
        employee_number=export.employee_number,
        generated_at=export.generated_at,
        controller=service.CONTROLLER,
        purposes=service.PURPOSES,
        lawful_basis=service.LAWFUL_BASIS,
        recipients=service.RECIPIENTS,
        retention=RetentionRead(**export.retention),
        staff=export.sections["staff"],
        history=export.sections["history"],
        completions=export.sections["completions"],
        xapi_statements=export.sections["xapiStatements"],
        xapi_documents=export.sections["xapiDocuments"],
        projects=export.sections["projects"],
        reviews_given=export.sections["reviewsGiven"],
        awards=export.sections["awards"],
        credentials=export.sections["credentials"],
        corrections=export.sections["corrections"],
        erasure_requests=export.sections["erasureRequests"],
        pseudonymisation=export.sections["pseudonymisation"],
        snapshot_memberships=export.sections["snapshotMemberships"],
        uptake_contributions=export.sections["uptakeContributions"],
        audit_records=export.sections["auditRecords"],
        events=export.sections["events"],
    )


@router.post(
    "/staff/{employeeNumber}/erasureRequests",
    summary="Request erasure of a person's data",
    status_code=201,
    response_model=ErasureRequestRead,
    responses=problem_responses(*AUTHENTICATED, 404, 409, 413, 422),
)
async def request_erasure(
    employee_number: EmployeeNumberPath,
    body: ErasureRequestIn,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PERSONAL_DATA_ERASE)],
) -> ErasureRequestRead:
    """Records an erasure request (UK GDPR article 17) with its legal ground and pseudonymises
    the person at once: names, e-mail and free text naming them go; what uptake figures are
    counted from stays. A current employee is refused (409) unless `overrideReason` says why
    it cannot wait until they leave. Audited; announced as `erasureRequested` and
    `staffPseudonymised`."""
    outcome = await service.request_erasure(session, caller, employee_number, body)
    return ErasureRequestRead(
        id=outcome.request.id,
        employee_number=employee_number,
        legal_basis=outcome.request.legal_basis,
        requested_at=outcome.request.requested_at,
        current_employee=outcome.current_employee,
        pseudonymised=outcome.pseudonymised,
    )
