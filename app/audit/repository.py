from collections.abc import Set
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import AuditRecord


async def list_audit_records(
    session: AsyncSession,
    page: PageRequest,
    *,
    organisations: Set[str] | None,
    client_id: str | None,
    resource_type: str | None,
    resource_id: str | None,
    action: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> PageResult[AuditRecord]:
    query = select(AuditRecord)
    if organisations is not None:
        query = query.where(AuditRecord.organisation_ods_code.in_(sorted(organisations)))
    for column, value in (
        (AuditRecord.client_id, client_id),
        (AuditRecord.resource_type, resource_type),
        (AuditRecord.resource_id, resource_id),
        (AuditRecord.action, action),
        (AuditRecord.outcome, outcome),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditRecord.occurred_at >= since)
    if until is not None:
        query = query.where(AuditRecord.occurred_at < until)
    rows = (await session.scalars(keyset(query, [AuditRecord.id], page))).all()
    return page_of(rows, page, key=lambda r: [r.id])
