"""Uptake reads: sums of a bounded number of bucket rows per cell, never a scan of staff.

The figures of a cell as of day D are the year buckets before D's year, the month buckets of
D's year before D's month, and the day buckets of D's month up to D: at most (years since the
programme start) + 11 + 31 rows per cell, however many staff there are.
"""

import functools
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StaffGroup
from app.models.uptake import UptakeBucket
from app.uptake.contributions import MEASURES, Counts, add

# (organisation, staff group name, board member)
CellKey = tuple[str, str, bool]


@dataclass(frozen=True)
class CellFilter:
    visible_to: Set[str] | None = None
    organisation: str | None = None
    staff_group_code: str | None = None
    board_member: bool | None = None

    def shape(self) -> tuple[bool, bool, bool, bool]:
        """Which conditions apply: the queries are built once per shape."""
        return (
            self.visible_to is not None,
            self.organisation is not None,
            self.staff_group_code is not None,
            self.board_member is not None,
        )

    def parameters(self) -> dict[str, Any]:
        """The values of the conditions that apply, by their parameters' names."""
        values = {
            "visible_to": sorted(self.visible_to) if self.visible_to is not None else None,
            "organisation": self.organisation,
            "staff_group_code": self.staff_group_code,
            "board_member": self.board_member,
        }
        return {name: value for name, value in values.items() if value is not None}


def _conditions(shape: tuple[bool, bool, bool, bool]) -> list[Any]:
    visible_to, organisation, staff_group_code, board_member = shape
    bucket = UptakeBucket
    conditions: list[Any] = []
    if visible_to:
        conditions.append(bucket.organisation_ods_code.in_(bindparam("visible_to", expanding=True)))
    if organisation:
        conditions.append(bucket.organisation_ods_code == bindparam("organisation"))
    if staff_group_code:
        conditions.append(bucket.staff_group_code == bindparam("staff_group_code"))
    if board_member:
        conditions.append(bucket.board_member == bindparam("board_member"))
    return conditions


def _named_sums(where: Sequence[Any], *by: Any) -> Any:
    """Each cell's summed buckets (and per ``by``), with its staff group's name: the buckets
    are summed by code first and the few sums named after, so the join reads one row per
    group, not one per bucket row."""
    bucket = UptakeBucket
    cell = (bucket.organisation_ods_code, bucket.staff_group_code, bucket.board_member)
    sums = (
        select(
            *by,
            *cell,
            *(func.sum(getattr(bucket, m)).label(m) for m in MEASURES),
        )
        .where(*where)
        .group_by(*by, *cell)
        .subquery()
    )
    return select(
        *(sums.c[column.key] for column in by),
        sums.c.organisation_ods_code,
        StaffGroup.name,
        sums.c.board_member,
        *(sums.c[m] for m in MEASURES),
    ).join(StaffGroup, StaffGroup.code == sums.c.staff_group_code)


# Building a select costs more Python than running this one: each shape is built once and run
# with its values (a refresh of a kept answer runs on a busy event loop).
@functools.cache
def _totals_query(shape: tuple[bool, bool, bool, bool]) -> Any:
    bucket = UptakeBucket
    year_start, month_start, day = (
        bindparam(name, type_=Date()) for name in ("year_start", "month_start", "day")
    )
    as_of = or_(
        and_(bucket.grain == "y", bucket.period_start < year_start),
        and_(
            bucket.grain == "m",
            bucket.period_start >= year_start,
            bucket.period_start < month_start,
        ),
        and_(bucket.grain == "d", bucket.period_start >= month_start, bucket.period_start <= day),
    )
    return _named_sums([as_of, *_conditions(shape)])


def _totals_parameters(day: date, cells: CellFilter) -> dict[str, Any]:
    starts = {"year_start": day.replace(month=1, day=1), "month_start": day.replace(day=1)}
    return {**starts, "day": day, **cells.parameters()}


def totals_query(day: date, cells: CellFilter) -> Any:
    """The query of ``totals_as_of``, its values bound (bench/uptake.py EXPLAINs it)."""
    return _totals_query(cells.shape()).params(_totals_parameters(day, cells))


async def totals_as_of(
    session: AsyncSession, day: date, cells: CellFilter
) -> dict[CellKey, Counts]:
    """Each cell's headcount and holders of at least Bronze, at least Silver, and Gold on day."""
    rows = await session.execute(_totals_query(cells.shape()), _totals_parameters(day, cells))
    return {
        (org, name, board): (int(h), int(b), int(s), int(g))
        for org, name, board, h, b, s, g in rows
    }


@functools.cache
def _changes_query(shape: tuple[bool, bool, bool, bool]) -> Any:
    bucket = UptakeBucket
    where = [
        bucket.grain == bindparam("grain"),
        bucket.period_start >= bindparam("first", type_=Date()),
        bucket.period_start <= bindparam("last", type_=Date()),
        *_conditions(shape),
    ]
    return _named_sums(where, bucket.period_start)


async def changes_between(
    session: AsyncSession, grain: str, first: date, last: date, cells: CellFilter
) -> dict[date, dict[CellKey, Counts]]:
    """The summed changes of each cell per bucket of this grain starting in [first, last]."""
    parameters = {"grain": grain, "first": first, "last": last, **cells.parameters()}
    changes: dict[date, dict[CellKey, Counts]] = {}
    for start, org, name, board, h, b, s, g in await session.execute(
        _changes_query(cells.shape()), parameters
    ):
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
