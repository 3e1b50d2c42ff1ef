from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.awards import service
from app.awards.evaluation_router import router as evaluation_router
from app.awards.facts import Level
from app.awards.rules_document import AwardRulesDocument
from app.awards.schemas import (
    AwardEvidence,
    AwardPage,
    AwardRead,
    AwardRevocation,
    AwardRulesRead,
    AwardStatus,
    LegacyAwardIn,
    RevocationIn,
    StaffAwards,
)
from app.awards.service import AwardView
from app.core.database import SessionDep, SessionRoute
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.core.schemas import IsoDateTime
from app.models import AwardRules
from app.staff.parameters import EmployeeNumberPath

router = APIRouter(route_class=SessionRoute, tags=["Awards"])

VersionPath = Annotated[
    int, Path(alias="version", ge=1, le=2**31 - 1, description="Rules version.", examples=[1])
]
AwardIdPath = Annotated[
    int, Path(alias="awardId", ge=1, le=2**63 - 1, description="Award id.", examples=[812])
]
LOCATION = {
    "Location": {
        "description": "URL of the new resource.",
        "schema": {"type": "string", "maxLength": 2048},
    }
}


def _rules_read(rules: AwardRules, current: bool) -> AwardRulesRead:
    return AwardRulesRead(
        version=rules.version,
        current=current,
        created_at=rules.created_at,
        created_by=rules.created_by_client_id,
        document=AwardRulesDocument.model_validate(rules.document),
    )


def _award_read(view: AwardView) -> AwardRead:
    award, evidence = view.award, view.award.evidence
    return AwardRead(
        id=award.id,
        employee_number=view.employee_number,
        organisation=view.organisation,
        level=Level(award.level),
        status=AwardStatus(award.status),
        attained_at=award.attained_at,
        granted_at=award.granted_at,
        rules_version=award.rules_version,
        evidence=AwardEvidence(
            completion_ids=evidence.get("completionIds", []),
            project_ids=evidence.get("projectIds", []),
            legacy_reference=evidence.get("legacyReference"),
        ),
        revoked_at=award.revoked_at,
        revoked_reason=award.revoked_reason,
        revocation_cause=award.revocation_cause,
        created_at=award.created_at,
        updated_at=award.updated_at,
    )


@router.get(
    "/awardRules",
    summary="Get the current award rules",
    response_model=AwardRulesRead,
    responses=problem_responses(*AUTHENTICATED, 503),
)
async def get_current_award_rules(
    session: SessionDep, caller: Annotated[Caller, requires(Scope.AWARDS_READ)]
) -> AwardRulesRead:
    """The rules version evaluations use now: per level, what it takes."""
    return _rules_read(await service.get_current_rules(session), current=True)


@router.get(
    "/awardRules/{version:int}",
    summary="Get one version of the award rules",
    response_model=AwardRulesRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_award_rules(
    version: VersionPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> AwardRulesRead:
    """Any version, current or past: awards name the version they were granted under."""
    rules, current = await service.get_rules(session, version)
    return _rules_read(rules, current)


@router.post(
    "/awardRules",
    summary="Publish a new version of the award rules",
    response_model=AwardRulesRead,
    status_code=201,
    responses={
        201: {"description": "Created; now current.", "headers": LOCATION},
        **problem_responses(*AUTHENTICATED, 409, 413, 422),
    },
)
async def create_award_rules(
    body: AwardRulesDocument,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_WRITE)],
) -> AwardRulesRead:
    """Stores the document as the next version and makes it current; everyone is then
    re-evaluated under it. Awards already granted stand. A malformed document answers 422
    naming the path of each bad part (`levels.gold.minimumMentoredProjects`). Only clients not
    limited to some organisations may do this."""
    rules = await service.create_rules(session, caller, body)
    response.headers["Location"] = str(request.url_for("get_award_rules", version=rules.version))
    return _rules_read(rules, current=True)


@router.get(
    "/awards",
    summary="List awards",
    response_model=AwardPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_awards(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
    page: Annotated[PageRequest, page_request("awards")],
    level: Annotated[Level | None, Query()] = None,
    organisation: Annotated[
        str | None, Query(pattern=ODS_CODE_PATTERN, description="Holder's current organisation.")
    ] = None,
    status: Annotated[AwardStatus | None, Query()] = None,
    granted_since: Annotated[
        IsoDateTime | None,
        Query(
            alias="grantedSince",
            description="Granted by the service (`grantedAt`) at or after.",
        ),
    ] = None,
    updated_since: Annotated[
        IsoDateTime | None,
        Query(
            alias="updatedSince",
            description="Granted, dated again or revoked at or after, for sync.",
        ),
    ] = None,
) -> AwardPage:
    """Awards of staff visible to this client, in a stable order."""
    result = await service.list_awards(
        session,
        caller,
        page,
        level=level,
        organisation=organisation,
        status=None if status is None else str(status),
        granted_since=granted_since,
        updated_since=updated_since,
    )
    return AwardPage(
        data=[_award_read(AwardView(*row)) for row in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )


@router.get(
    "/awards/{awardId}",
    summary="Get an award",
    response_model=AwardRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_award(
    award_id: AwardIdPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> AwardRead:
    """One award, with its evidence and, if revoked, when and why."""
    return _award_read(await service.get_award(session, caller, award_id))


@router.get(
    "/staff/{employeeNumber}/awards",
    summary="Get a staff member's awards",
    response_model=StaffAwards,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_staff_awards(
    employee_number: EmployeeNumberPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> StaffAwards:
    """Every award the person holds or held, active and revoked, oldest first."""
    views = await service.staff_awards(session, caller, employee_number)
    return StaffAwards(employee_number=employee_number, data=[_award_read(v) for v in views])


@router.post(
    "/awards",
    summary="Record a legacy award",
    response_model=AwardRead,
    status_code=201,
    responses={
        200: {"description": "The same legacy award was already recorded.", "model": AwardRead},
        201: {"description": "Recorded.", "headers": LOCATION},
        **problem_responses(*AUTHENTICATED, 409, 413, 422),
    },
)
async def record_legacy_award(
    body: LegacyAwardIn,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_WRITE)],
) -> AwardRead:
    """Records an award granted before this service existed, with the reference it is
    recorded under. 409 when the person already holds an active award of that level; sending
    the same award again answers 200 with the stored one. A client limited to some
    organisations names only their staff (anyone else is 422, as an unknown number)."""
    view, created = await service.record_legacy_award(session, caller, body)
    response.status_code = 201 if created else 200
    response.headers["Location"] = str(request.url_for("get_award", awardId=view.award.id))
    return _award_read(view)


@router.post(
    "/awards/{awardId}/revocation",
    summary="Revoke an award",
    response_model=AwardRevocation,
    responses=problem_responses(*AUTHENTICATED, 404, 409, 413, 422),
)
async def revoke_award(
    award_id: AwardIdPath,
    body: RevocationIn,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_WRITE)],
) -> AwardRevocation:
    """Revokes the award with the reason given, and with it the person's active awards of
    higher levels (they needed it). 409 when it is already revoked."""
    view, cascaded = await service.revoke_award(session, caller, award_id, body.reason)
    return AwardRevocation(
        award=_award_read(view), cascaded=[_award_read(above) for above in cascaded]
    )


router.include_router(evaluation_router)
