"""The audit trail: noted by services during a request, written once with its outcome."""

from collections.abc import Sequence
from datetime import datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.auth.caller import AuditNote, Caller
from app.core.bulk import insert_rows
from app.core.clock import utcnow
from app.core.database_faults import is_database_unavailable
from app.core.pagination import PageRequest, PageResult
from app.core.problems import ProblemError
from app.models import AuditRecord

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refused_write(request: Request) -> AuditNote:
    """An audit note for a write refused before its service noted anything (a missing scope,
    another organisation's resource, a bad reference): the route names the resource."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    resource_type = template.strip("/").split("/")[0] or "unknown"
    resource_id = next(iter(request.path_params.values()), None)
    return AuditNote(request.method.lower(), resource_type, resource_id, None)


async def write_noted_audit_records(
    session: AsyncSession, request: Request, failure: BaseException | None
) -> bool:
    """Writes the request's noted audit entries (one Core statement, no unit of work); True
    when there were any."""
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:
        return False
    notes = list(caller.audit_notes)
    if not notes and failure is not None and request.method in _WRITE_METHODS:
        notes = [_refused_write(request)]
    if not notes:
        return False
    status_code = None
    if failure is not None:
        if isinstance(failure, ProblemError):
            status_code = failure.status
        else:
            status_code = 503 if is_database_unavailable(failure) else 500
    outcome = "success" if failure is None else "failure"
    await insert_rows(
        session,
        AuditRecord.__table__,
        [_audit_row(caller, note, outcome, status_code) for note in notes],
    )
    return True


async def write_audit_records(
    session: AsyncSession, entries: Sequence[tuple[Caller, AuditNote]]
) -> None:
    """Writes successful actions of several requests at once (one Core statement), for the
    requests that share a transaction (a group commit)."""
    await insert_rows(
        session,
        AuditRecord.__table__,
        [_audit_row(caller, note, "success", None) for caller, note in entries],
    )


def _audit_row(
    caller: Caller, note: AuditNote, outcome: str, status_code: int | None
) -> dict[str, object]:
    return {
        "occurred_at": utcnow(),
        "client_id": caller.client_id,
        "action": note.action,
        "resource_type": note.resource_type,
        "resource_id": note.resource_id,
        "organisation_ods_code": note.organisation,
        "request_id": caller.request_id,
        "outcome": outcome,
        "status_code": status_code,
    }


async def list_audit_records(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    client_id: str | None,
    resource_type: str | None,
    resource_id: str | None,
    action: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> PageResult[AuditRecord]:
    return await repository.list_audit_records(
        session,
        page,
        organisations=caller.organisations,
        client_id=client_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )


__all__: Sequence[str] = ["list_audit_records", "write_audit_records", "write_noted_audit_records"]
