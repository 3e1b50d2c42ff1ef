"""Issued credentials, their awards' evidence, and the revoked places of a status list."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import dialect_insert
from app.credentials.credential import CompletionEvidence, ProjectEvidence
from app.models import (
    Award,
    Completion,
    Course,
    ImprovementProject,
    IssuedCredential,
    StaffMember,
)


async def issued_for(session: AsyncSession, award_id: int) -> IssuedCredential | None:
    return await session.scalar(
        select(IssuedCredential).where(IssuedCredential.award_id == award_id)
    )


async def insert_if_absent(session: AsyncSession, row: dict[str, object]) -> bool:
    """Inserts the award's credential unless another request did first; True if inserted."""
    dialect = session.get_bind().dialect.name
    statement = (
        dialect_insert(dialect, IssuedCredential.__table__)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["award_id"])
        .returning(IssuedCredential.id)
    )
    return (await session.execute(statement)).first() is not None


async def work_email(session: AsyncSession, staff_id: int) -> str | None:
    return await session.scalar(select(StaffMember.work_email).where(StaffMember.id == staff_id))


async def completion_evidence(
    session: AsyncSession, completion_ids: list[int]
) -> tuple[CompletionEvidence, ...]:
    if not completion_ids:
        return ()
    rows = await session.execute(
        select(Course.title, Completion.completed_at)
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.id.in_(completion_ids))
        .order_by(Completion.completed_at, Completion.id)
    )
    return tuple(CompletionEvidence(title, completed_at) for title, completed_at in rows)


async def project_evidence(
    session: AsyncSession, project_ids: list[int]
) -> tuple[ProjectEvidence, ...]:
    if not project_ids:
        return ()
    rows = await session.execute(
        select(ImprovementProject.title, ImprovementProject.outcome, ImprovementProject.approved_at)
        .where(ImprovementProject.id.in_(project_ids))
        .order_by(ImprovementProject.approved_at, ImprovementProject.id)
    )
    return tuple(ProjectEvidence(title, outcome, approved) for title, outcome, approved in rows)


async def revoked_row_ids(session: AsyncSession, first: int, last: int) -> list[int]:
    """The ids, between first and last, of credentials whose award is revoked."""
    rows = await session.scalars(
        select(IssuedCredential.id)
        .join(Award, Award.id == IssuedCredential.award_id)
        .where(IssuedCredential.id.between(first, last), Award.status == "revoked")
    )
    return list(rows)


async def last_row_id(session: AsyncSession) -> int:
    found = await session.scalar(select(IssuedCredential.id).order_by(IssuedCredential.id.desc()))
    return int(found or 0)


async def award_status_of_row(session: AsyncSession, credential_uuid: str) -> str | None:
    """The status of the award a credential was issued for (None: not issued here)."""
    return await session.scalar(
        select(Award.status)
        .join(IssuedCredential, IssuedCredential.award_id == Award.id)
        .where(IssuedCredential.credential_uuid == credential_uuid)
    )
