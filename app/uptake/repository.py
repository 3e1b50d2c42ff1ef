"""Uptake reads: sums of a bounded number of bucket rows per cell, never a scan of staff.

The figures of a cell as of day D are the year buckets before D's year, the month buckets of
D's year before D's month, and the day buckets of D's month up to D: at most (years since the
programme start) + 11 + 31 rows per cell, however many staff there are.
"""

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StaffGroup
from app.models.uptake import UptakeBucket
from app.uptake.contributions import Counts, add

# (organisation, staff group name, board member)
CellKey = tuple[str, str, bool]


@dataclass(frozen=True)
class CellFilter:
    visible_to: Set[str] | None = None
    organisation: str | None = None
    staff_group_code: str | None = None
    board_member: bool | None = None

    def conditions(self) -> list[Any]:
        bucket = UptakeBucket
        conditions: list[Any] = []
        if self.visible_to is not None:
            conditions.append(bucket.organisation_ods_code.in_(sorted(self.visible_to)))
        if self.organisation is not None:
            conditions.append(bucket.organisation_ods_code == self.organisation)
        if self.staff_group_code is not None:
            conditions.append(bucket.staff_group_code == self.staff_group_code)
        if self.board_member is not None:
            conditions.append(bucket.board_member.is_(self.board_member))
        return conditions


def _as_of_condition(day: date) -> Any:
    bucket = UptakeBucket
    year_start, month_start = day.replace(month=1, day=1), day.replace(day=1)
    return or_(
        and_(bucket.grain == "y", bucket.period_start < year_start),
        and_(
            bucket.grain == "m",
            bucket.period_start >= year_start,
            bucket.period_start < month_start,
        ),
        and_(bucket.grain == "d", bucket.period_start >= month_start, bucket.period_start <= day),
    )


def _sums(*group: Any) -> Any:
    bucket = UptakeBucket
    return select(
        *group,
        func.sum(bucket.headcount),
        func.sum(bucket.bronze),
        func.sum(bucket.silver),
        func.sum(bucket.gold),
    ).join(StaffGroup, StaffGroup.code == bucket.staff_group_code)


async def totals_as_of(
    session: AsyncSession, day: date, cells: CellFilter
) -> dict[CellKey, Counts]:
    """Each cell's headcount and holders of at least Bronze, at least Silver, and Gold on day."""
    bucket = UptakeBucket
    group = (bucket.organisation_ods_code, StaffGroup.name, bucket.board_member)
    query = _sums(*group).where(_as_of_condition(day), *cells.conditions()).group_by(*group)
    rows = await session.execute(query)
    return {
        (org, name, board): (int(h), int(b), int(s), int(g))
        for org, name, board, h, b, s, g in rows
    }


async def changes_between(
    session: AsyncSession, grain: str, first: date, last: date, cells: CellFilter
) -> dict[date, dict[CellKey, Counts]]:
    """The summed changes of each cell per bucket of this grain starting in [first, last]."""
    bucket = UptakeBucket
    group = (
        bucket.period_start,
        bucket.organisation_ods_code,
        StaffGroup.name,
        bucket.board_member,
    )
    query = (
        _sums(*group)
        .where(
            bucket.grain == grain,
            bucket.period_start >= first,
            bucket.period_start <= last,
            *cells.conditions(),
        )
        .group_by(*group)
    )
    changes: dict[date, dict[CellKey, Counts]] = {}
    for start, org, name, board, h, b, s, g in await session.execute(query):
        changes.setdefault(start, {})[(org, name, board)] = (int(h), int(b), int(s), int(g))
    return changes


async def staff_group_code(session: AsyncSession, name_or_code: str) -> str | None:
    found = await session.scalar(
        select(StaffGroup.code).where(
            or_(
                StaffGroup.code == name_or_code,
                func.lower(StaffGroup.name) == name_or_code.casefold(),
            )
        )
    )
    return str(found) if found is not None else None


def accumulate(
    running: dict[CellKey, Counts], changes: Sequence[dict[CellKey, Counts]]
) -> dict[CellKey, Counts]:
    result = dict(running)
    for change in changes:
        for key, counts in change.items():
            result[key] = add(result.get(key, (0, 0, 0, 0)), counts)
    return result
