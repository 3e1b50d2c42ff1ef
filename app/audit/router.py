from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.audit import service
from app.audit.schemas import AuditRecordPage, AuditRecordRead
from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageRequest, build_page, page_request
from app.core.schemas import IsoDateTime

router = APIRouter(route_class=SessionRoute, tags=["Audit"])


@router.get(
    "/auditRecords",
    summary="List audit records",
    response_model=AuditRecordPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_audit_records(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AUDIT_READ)],
    page: Annotated[PageRequest, page_request("auditRecords")],
    client_id: Annotated[str | None, Query(alias="clientId", max_length=64)] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=60)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=20)] = None,
    outcome: Annotated[Literal["success", "failure"] | None, Query()] = None,
    since: Annotated[
        IsoDateTime | None, Query(description="Occurred at or after (RFC 3339).")
    ] = None,
    until: Annotated[IsoDateTime | None, Query(description="Occurred before (RFC 3339).")] = None,
) -> AuditRecordPage:
    """The append-only audit trail of writes and personal-data reads, oldest first."""
    result = await service.list_audit_records(
        session,
        caller,
        page,
        client_id=client_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )
    return build_page(AuditRecordPage, AuditRecordRead, request, page, result)
