"""Builders for uptake tests: staff through the API, awards as rows, and a plain recount."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import UK
from app.models import StaffMember
from app.models.award import Award
from app.uptake.projection import note_changed
from tests.conftest import auth
from tests.staff.factories import person

AWARD_LEVELS = {
    "bronze": ("bronze", "silver", "gold"),
    "silver": ("silver", "gold"),
    "gold": ("gold",),
}


BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}


async def add_bronze_course(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    course = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    assert course.status_code == 201, course.text


async def send_bronze_completion(
    client: httpx.AsyncClient, admin: dict[str, str], number: str
) -> httpx.Response:
    """A passed completion of the Bronze course for this employee number."""
    return await client.post(
        "/completions",
        json={
            "courseCode": "IQT-BRONZE",
            "completedAt": "2026-01-15T10:30:00Z",
            "passed": True,
            "externalId": "cc-1",
            "employeeNumber": number,
        },
        headers=auth(admin),
    )


async def put_person(
    client: httpx.AsyncClient, admin: dict[str, str], number: str, **fields: Any
) -> None:
    response = await client.put(
        f"/staff/{number}", json=person(number, **fields), headers=auth(admin)
    )
    assert response.status_code in (200, 201), response.text


async def staff_id(session: AsyncSession, number: str) -> int:
    found = await session.scalar(
        select(StaffMember.id).where(StaffMember.employee_number == number)
    )
    assert found is not None
    return int(found)


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def grant(
    session: AsyncSession,
    number_or_id: str | int,
    level: str,
    granted: date | datetime,
    revoked: date | datetime | None = None,
) -> None:
    """An award row (as the awards domain would write it), noting the person's uptake as
    changed (the projection refreshes it before the figures are read)."""
    person_id = (
        number_or_id if isinstance(number_or_id, int) else await staff_id(session, number_or_id)
    )
    granted_at = granted if isinstance(granted, datetime) else at_noon(granted)
    revoked_at = revoked if isinstance(revoked, datetime) or revoked is None else at_noon(revoked)
    session.add(
        Award(
            staff_id=person_id,
            level=level,
            granted_at=granted_at,
            evidence={"completionIds": [], "projectIds": [], "legacyReference": "test"},
            status="revoked" if revoked_at else "active",
            revoked_at=revoked_at,
            revoked_reason="test" if revoked_at else None,
            revocation_cause="administrator" if revoked_at else None,
        )
    )
    await session.flush()
    await note_changed(session, [person_id])
    await session.commit()


def end_of_uk_day(day: date) -> datetime:
    """The first instant (UTC) of the UK day after ``day``."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK).astimezone(UTC)


_HELD = """EXISTS (SELECT 1 FROM awards a WHERE a.staff_id = s.id AND a.level IN ({levels})
    AND a.attained_at < :cut AND (a.revoked_at IS NULL OR a.revoked_at >= :cut))"""

RECOUNT = f"""
SELECT h.organisation_ods_code, g.name, h.board_member, count(*),
  sum(CASE WHEN {_HELD.format(levels="'bronze', 'silver', 'gold'")} THEN 1 ELSE 0 END),
  sum(CASE WHEN {_HELD.format(levels="'silver', 'gold'")} THEN 1 ELSE 0 END),
  sum(CASE WHEN {_HELD.format(levels="'gold'")} THEN 1 ELSE 0 END)
FROM staff_members s
JOIN staff_history h ON h.staff_id = s.id
JOIN staff_groups g ON g.code = h.staff_group_code
WHERE s.start_date <= :day AND (s.end_date IS NULL OR s.end_date >= :day)
  AND (h.valid_from <= :day
       OR h.valid_from = (SELECT min(h2.valid_from) FROM staff_history h2 WHERE h2.staff_id = s.id))
  AND (h.valid_to IS NULL OR h.valid_to > :day)
GROUP BY h.organisation_ods_code, g.name, h.board_member
"""  # noqa: S608 - constant text


async def recount(session: AsyncSession, day: date) -> dict[tuple[str, str, bool], tuple[int, ...]]:
    """Every cell's figures on ``day`` straight from staff, history and awards."""
    rows = await session.execute(text(RECOUNT), {"day": day, "cut": end_of_uk_day(day)})
    return {
        (org, group, bool(board)): tuple(int(v) for v in counts)
        for org, group, board, *counts in rows
    }
