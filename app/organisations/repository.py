from collections.abc import Set
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import Organisation


async def get_by_ods_code(
    session: AsyncSession, ods_code: str, *, for_update: bool = False
) -> Organisation | None:
    """The organisation; with ``for_update``, its row stays locked until commit (PostgreSQL;
    SQLite transactions already hold the write lock)."""
    query = select(Organisation).where(Organisation.ods_code == ods_code)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_unless_exists(
    session: AsyncSession, organisation: Organisation
) -> Organisation | None:
    """Inserts a new organisation and returns None; when a concurrent request has created one
    with the same ODS code first, returns that one (locked) instead."""
    try:
        async with session.begin_nested():
            session.add(organisation)
            await session.flush()
    except IntegrityError:
        existing = await get_by_ods_code(session, organisation.ods_code, for_update=True)
        if existing is None:
            raise
        return existing
    return None


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
