"""Project queries: teams are read and written one statement per project or page."""

from collections.abc import Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import StaffMember
from app.models.project import ImprovementProject, ProjectReview, ProjectTeamMember

# (employee number, role, staff id) of one team member.
TeamRow = tuple[str, str, int]


async def get_project(
    session: AsyncSession, project_id: int, *, lock: bool = False
) -> ImprovementProject | None:
    """The project; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
    query = select(ImprovementProject).where(ImprovementProject.id == project_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def teams_of(session: AsyncSession, project_ids: Sequence[int]) -> dict[int, list[TeamRow]]:
    """The team of each project, in the order it was given."""
    teams: dict[int, list[TeamRow]] = {project_id: [] for project_id in project_ids}
    if not project_ids:
        return teams
    rows = await session.execute(
        select(
            ProjectTeamMember.project_id,
            StaffMember.employee_number,
            ProjectTeamMember.role,
            StaffMember.id,
        )
        .join(StaffMember, StaffMember.id == ProjectTeamMember.staff_id)
        .where(ProjectTeamMember.project_id.in_(list(project_ids)))
        .order_by(ProjectTeamMember.project_id, ProjectTeamMember.id)
    )
    for project_id, number, role, staff_id in rows.all():
        teams[project_id].append((number, role, staff_id))
    return teams


async def replace_team(
    session: AsyncSession, project_id: int, members: Sequence[tuple[int, str]]
) -> None:
    """Replaces the team with these (staff id, role) pairs."""
    await session.execute(
        delete(ProjectTeamMember).where(ProjectTeamMember.project_id == project_id)
    )
    if members:
        await session.execute(
            insert(ProjectTeamMember),
            [{"project_id": project_id, "staff_id": s, "role": r} for s, r in members],
        )


async def list_projects(
    session: AsyncSession,
    page: PageRequest,
    *,
    visible_to: Set[str] | None,
    organisation: str | None,
    status: str | None,
    employee_number: str | None,
    updated_since: datetime | None,
) -> PageResult[ImprovementProject]:
    query = select(ImprovementProject)
    if visible_to is not None:
        query = query.where(ImprovementProject.organisation_ods_code.in_(sorted(visible_to)))
    if organisation is not None:
        query = query.where(ImprovementProject.organisation_ods_code == organisation)
    if status is not None:
        query = query.where(ImprovementProject.status == status)
    if employee_number is not None:
        query = query.where(
            exists()
            .where(ProjectTeamMember.project_id == ImprovementProject.id)
            .where(ProjectTeamMember.staff_id == StaffMember.id)
            .where(StaffMember.employee_number == employee_number)
        )
    if updated_since is not None:
        query = query.where(ImprovementProject.updated_at >= updated_since)
    rows = (await session.scalars(keyset(query, [ImprovementProject.id], page))).all()
    return page_of(rows, page, key=lambda p: [p.id])


async def add_review(session: AsyncSession, values: dict[str, Any]) -> ProjectReview:
    review = ProjectReview(**values)
    session.add(review)
    await session.flush()
    return review


async def list_reviews(
    session: AsyncSession, project_id: int, page: PageRequest
) -> PageResult[tuple[ProjectReview, str]]:
    """The project's reviews, oldest first, with each reviewer's employee number."""
    query = (
        select(ProjectReview, StaffMember.employee_number)
        .join(StaffMember, StaffMember.id == ProjectReview.reviewer_staff_id)
        .where(ProjectReview.project_id == project_id)
    )
    rows = (await session.execute(keyset(query, [ProjectReview.id], page))).all()
    return page_of([(r[0], r[1]) for r in rows], page, key=lambda r: [r[0].id])
