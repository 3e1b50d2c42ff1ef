"""Award and award rules queries."""

from collections.abc import Set
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import Award, AwardEvaluationJob, AwardRules, StaffMember

# An award row with its holder's employee number and current organisation.
AwardRow = tuple[Award, str, str]


def _with_holder() -> Any:
    return select(Award, StaffMember.employee_number, StaffMember.organisation_ods_code).join(
        StaffMember, StaffMember.id == Award.staff_id
    )


async def current_rules(session: AsyncSession) -> AwardRules | None:
    return await session.scalar(select(AwardRules).order_by(AwardRules.version.desc()).limit(1))


async def rules_version(session: AsyncSession, version: int) -> AwardRules | None:
    return await session.get(AwardRules, version)


async def latest_rules_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(AwardRules.version))) or 0)


async def supersede_evaluation_jobs(session: AsyncSession) -> None:
    """Jobs of older versions stop: everyone is evaluated again under the newest."""
    await session.execute(
        update(AwardEvaluationJob)
        .where(AwardEvaluationJob.status.in_(["pending", "running"]))
        .values(status="superseded", lease_owner=None, lease_expires_at=None)
    )


async def lock_person(session: AsyncSession, staff_id: int) -> None:
    """Serialises award changes of one person (PostgreSQL; SQLite writers are serialised)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(StaffMember.id).where(StaffMember.id == staff_id).with_for_update(key_share=True)
        )


async def get_award(session: AsyncSession, award_id: int) -> AwardRow | None:
    row = (await session.execute(_with_holder().where(Award.id == award_id))).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def awards_of(session: AsyncSession, staff_id: int) -> list[Award]:
    rows = await session.scalars(
        select(Award).where(Award.staff_id == staff_id).order_by(Award.granted_at, Award.id)
    )
    return list(rows.all())


async def active_award(session: AsyncSession, staff_id: int, level: str) -> Award | None:
    return await session.scalar(
        select(Award).where(
            Award.staff_id == staff_id, Award.level == level, Award.status == "active"
        )
    )


async def list_awards(
    session: AsyncSession,
    page: PageRequest,
    *,
    visible_to: Set[str] | None,
    level: str | None,
    organisation: str | None,
    status: str | None,
    granted_since: datetime | None,
    updated_since: datetime | None,
) -> PageResult[AwardRow]:
    query = _with_holder()
    if visible_to is not None:
        query = query.where(StaffMember.organisation_ods_code.in_(sorted(visible_to)))
    if organisation is not None:
        query = query.where(StaffMember.organisation_ods_code == organisation)
    if level is not None:
        query = query.where(Award.level == level)
    if status is not None:
        query = query.where(Award.status == status)
    if granted_since is not None:
        query = query.where(Award.granted_at >= granted_since)
    if updated_since is not None:
        query = query.where(Award.updated_at >= updated_since)
    rows = (await session.execute(keyset(query, [Award.id], page))).all()
    return page_of([(r[0], r[1], r[2]) for r in rows], page, key=lambda row: [row[0].id])
