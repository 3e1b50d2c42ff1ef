"""Evidence written straight to the tables (courses, completions, approved projects), and
evaluation run on it as completions and projects run it: in their own transaction."""

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.evaluation import evaluate_awards
from app.models import Award, Completion, Course, ImprovementProject, ProjectTeamMember
from tests.awards.conftest import staff_id
from tests.conftest import auth, read_events
from tests.staff.factories import person

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


async def add_staff(
    client: httpx.AsyncClient, admin: dict[str, str], *numbers: str, organisation: str = "7A4"
) -> None:
    for number in numbers:
        response = await client.put(
            f"/staff/{number}", json=person(number, organisation=organisation), headers=auth(admin)
        )
        assert response.status_code == 201, response.text


async def add_course(
    session: AsyncSession, code: str = "IQT-BRONZE", counts_towards: str | None = "bronze"
) -> int:
    course = Course(
        code=code,
        title=f"{code} e-learning",
        provider="Learning@Wales",
        counts_towards=counts_towards,
        pass_required=True,
        minimum_score=None,
    )
    session.add(course)
    await session.commit()
    return course.id


async def add_completion(
    session: AsyncSession,
    admin: dict[str, str],
    employee_number: str,
    course_id: int,
    *,
    on: int = 0,
    passed: bool = True,
) -> int:
    completion = Completion(
        client_id=admin["client_id"],
        external_id=f"moodle-{next(_ids)}",
        channel="api",
        course_id=course_id,
        employee_number=employee_number,
        completed_at=at(on),
        passed=passed,
        staff_id=await staff_id(session, employee_number),
        match_status="matched",
    )
    session.add(completion)
    await session.commit()
    return completion.id


async def retract(session: AsyncSession, completion_id: int, *, on: int = 40) -> None:
    """Marks the completion retracted, as ``DELETE /completions/{id}`` does (no evaluation)."""
    completion = await session.get(Completion, completion_id)
    assert completion is not None
    completion.retracted_at, completion.retraction_reason = at(on), "Recorded in error."
    await session.commit()


async def add_approved_project(
    session: AsyncSession, team: Sequence[tuple[str, str]], *, on: int = 10, outcome: str = "worse"
) -> int:
    project = ImprovementProject(
        title="Fewer missed insulin doses",
        organisation_ods_code="7A4",
        measures=[],
        changes=[],
        links=[],
        outcome=outcome,
        status="approved",
        submitted_at=at(on - 1),
        approved_at=at(on),
    )
    session.add(project)
    await session.flush()
    for number, role in team:
        session.add(
            ProjectTeamMember(
                project_id=project.id, staff_id=await staff_id(session, number), role=role
            )
        )
    await session.commit()
    return project.id


async def evaluate(session: AsyncSession, *numbers: str) -> None:
    """Evaluates these people in one committed transaction."""
    ids = [await staff_id(session, n) for n in numbers]
    await evaluate_awards(session, ids, None)
    await session.commit()


async def awards_of(session: AsyncSession, employee_number: str) -> list[dict[str, Any]]:
    """(level, status, cause, evidence) of every award of the person, oldest first."""
    session.expire_all()
    rows = await session.scalars(
        select(Award)
        .where(Award.staff_id == await staff_id(session, employee_number))
        .order_by(Award.id)
    )
    awards = [
        {
            "id": a.id,
            "level": a.level,
            "status": a.status,
            "cause": a.revocation_cause,
            "rulesVersion": a.rules_version,
            "attainedAt": a.attained_at,
            "grantedAt": a.granted_at,
            "evidence": a.evidence,
        }
        for a in rows
    ]
    await session.rollback()  # end the read: on SQLite it holds the write lock
    return awards


def active_levels(awards: list[dict[str, Any]]) -> list[str]:
    return [a["level"] for a in awards if a["status"] == "active"]


async def feed(
    client: httpx.AsyncClient, admin: dict[str, str], types: str, at_least: int = 1
) -> list[dict[str, Any]]:
    """Events of these types, waiting for the PostgreSQL feed horizon."""
    data: list[dict[str, Any]] = (
        await read_events(client, auth(admin), at_least=at_least, types=types)
    )["data"]
    return data
