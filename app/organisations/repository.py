from collections.abc import Set
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import Organisation


async def get_by_ods_code(session: AsyncSession, ods_code: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.ods_code == ods_code))


async def list_organisations(
    session: AsyncSession,
    page: PageRequest,
    *,
    visible_to: Set[str] | None,
    active: bool | None,
    updated_since: datetime | None,
) -> PageResult[Organisation]:
    query = select(Organisation)
    if visible_to is not None:
        query = query.where(Organisation.ods_code.in_(sorted(visible_to)))
    if active is not None:
        query = query.where(Organisation.active.is_(active))
    if updated_since is not None:
        query = query.where(Organisation.updated_at >= updated_since)
    rows = (await session.scalars(keyset(query, [Organisation.ods_code], page))).all()
    return page_of(rows, page, key=lambda o: [o.ods_code])
