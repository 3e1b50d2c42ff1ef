"""Uptake figures: as of a date, over time, by the dimensions asked for, with disclosure control."""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.problems import NotFound, ValidationFailed
from app.core.settings import Settings
from app.uptake import repository
from app.uptake.contributions import Counts, add
from app.uptake.disclosure import Disclosure, percentage
from app.uptake.repository import CellFilter, CellKey
from app.uptake.schemas import (
    Dimension,
    Interval,
    UptakeFreshness,
    UptakeReport,
    UptakeRow,
    UptakeSeriesRow,
)

_AXIS = {Dimension.ORGANISATION: 0, Dimension.STAFF_GROUP: 1, Dimension.BOARD_MEMBER: 2}
MAX_PERIODS = 240


def check_date(settings: Settings, name: str, value: date) -> None:
    if value < settings.uptake_programme_start:
        start = settings.uptake_programme_start.isoformat()
        raise ValidationFailed(
            f"{name} is before the programme start {start}.",
            invalid_params=[(name, f"Must be on or after {start}.")],
        )


async def cell_filter(
    session: AsyncSession,
    caller: Caller,
    organisation: str | None,
    staff_group: str | None,
    board_member: bool | None = None,
) -> CellFilter:
    if organisation is not None and not caller.may_access(organisation):
        raise NotFound(f"No organisation {organisation}.")
    code = None
    if staff_group is not None:
        code = await repository.staff_group_code(session, staff_group)
        if code is None:
            raise ValidationFailed(
                f"Unknown ESR staff group {staff_group!r}.",
                invalid_params=[("staffGroup", "Not an ESR staff group name or code.")],
            )
    return CellFilter(caller.organisations, organisation, code, board_member)


def group_totals(
    totals: Mapping[CellKey, Counts], group_by: Sequence[Dimension]
) -> dict[tuple[str | bool, ...], Counts]:
    """The exact figures of each group (cells summed by the dimensions asked for), but for
    groups with nobody in them."""
    groups: dict[tuple[str | bool, ...], Counts] = {}
    for cell, counts in totals.items():
        key = tuple(cell[_AXIS[d]] for d in group_by)
        groups[key] = add(groups.get(key, (0, 0, 0, 0)), counts)
    return {k: v for k, v in groups.items() if any(v)}


def figure_rows(
    totals: Mapping[CellKey, Counts],
    group_by: Sequence[Dimension],
    disclosure: Disclosure,
    as_of: date,
) -> list[UptakeRow]:
    """Each group's exact figures, each controlled on its own where the caller needs it."""
    groups = group_totals(totals, group_by)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        shown = [disclosure.figure(count) for count in groups[key]]
        values = dict(zip(group_by, key, strict=True))
        rows.append(
            UptakeRow(
                as_of=as_of,
                organisation=values.get(Dimension.ORGANISATION),
                staff_group=values.get(Dimension.STAFF_GROUP),
                board_member=values.get(Dimension.BOARD_MEMBER),
                headcount=shown[0],
                at_least_bronze=shown[1],
                at_least_bronze_percentage=percentage(shown[1], shown[0]),
                at_least_silver=shown[2],
                at_least_silver_percentage=percentage(shown[2], shown[0]),
                gold=shown[3],
                gold_percentage=percentage(shown[3], shown[0]),
                suppressed=any(v is None for v in shown),
            )
        )
    return rows


async def uptake_as_of(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    *,
    group_by: Sequence[Dimension],
    organisation: str | None,
    staff_group: str | None,
    as_of: date | None,
    freshness: UptakeFreshness,
) -> UptakeReport:
    day = as_of or today()
    check_date(settings, "asOf", day)
    cells = await cell_filter(session, caller, organisation, staff_group)
    totals = await repository.totals_as_of(session, day, cells)
    rows = figure_rows(totals, group_by, Disclosure.for_caller(caller), day)
    return UptakeReport(as_of=day, group_by=list(group_by), freshness=freshness, data=rows)


def span(first: date | None, last: date | None) -> tuple[date, date]:
    """``to`` defaults to today (or to ``from`` when that is later: its periods have not begun,
    so the answer is empty rather than refused), ``from`` to the first of the month a year
    before ``to``."""
    end = last or max(today(), first or today())
    return first or end.replace(year=end.year - 1, day=1), end


def periods(interval: Interval, first: date, last: date) -> list[tuple[date, date]]:
    """The calendar periods from the one holding ``first`` to the one holding ``last``."""
    months = {Interval.MONTH: 1, Interval.QUARTER: 3, Interval.YEAR: 12}[interval]
    start = first.replace(
        day=1, month=1 if months == 12 else first.month - (first.month - 1) % months
    )
    result = []
    while start <= last:
        index = start.year * 12 + start.month - 1 + months
        following = date(index // 12, index % 12 + 1, 1)
        result.append((start, following - timedelta(days=1)))
        start = following
        if len(result) > MAX_PERIODS:
            raise ValidationFailed(
                f"At most {MAX_PERIODS} periods at a time.",
                invalid_params=[("from", f"Too far before `to` for {MAX_PERIODS} periods.")],
            )
    return result


async def totals_at_ends(
    session: AsyncSession, ends: Sequence[date], cells: CellFilter
) -> list[dict[CellKey, Counts]]:
    """Each cell's figures on each of these dates (ascending; month ends, but for the last,
    which may be today): one bounded sum for the first, then month and day buckets."""
    running = await repository.totals_as_of(session, ends[0], cells)
    result = [running]
    if len(ends) == 1:
        return result
    last = ends[-1]
    partial = (last + timedelta(days=1)).day != 1
    last_full = last.replace(day=1) - timedelta(days=1) if partial else last
    after_first = ends[0] + timedelta(days=1)
    changes = await repository.changes_between(session, "m", after_first, last_full, cells)
    if partial and last.replace(day=1) > ends[0]:
        days = await repository.changes_between(session, "d", last.replace(day=1), last, cells)
        changes.update(days)
    ordered = sorted(changes.items())
    position = 0
    for end in ends[1:]:
        applied = []
        while position < len(ordered) and ordered[position][0] <= end:
            applied.append(ordered[position][1])
            position += 1
        running = repository.accumulate(running, applied)
        result.append(running)
    return result


async def uptake_series(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    *,
    interval: Interval,
    first: date,
    last: date,
    group_by: Sequence[Dimension],
    organisation: str | None,
) -> list[UptakeSeriesRow]:
    check_date(settings, "from", first)
    if last < first:
        raise ValidationFailed("to is before from.", invalid_params=[("to", "Before from.")])
    cells = await cell_filter(session, caller, organisation, None)
    now = today()
    spans = [(s, e) for s, e in periods(interval, first, last) if s <= now]
    if not spans:
        return []
    ends = [min(e, now) for _, e in spans]
    disclosure = Disclosure.for_caller(caller)
    rows = []
    for (start, end), totals in zip(spans, await totals_at_ends(session, ends, cells), strict=True):
        for row in figure_rows(totals, group_by, disclosure, min(end, now)):
            rows.append(UptakeSeriesRow(**row.model_dump(), period_start=start, period_end=end))
    return rows
