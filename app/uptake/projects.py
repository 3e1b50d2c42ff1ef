"""Improvement projects by status and outcome per organisation (optionally per period).

Projects number thousands a year, not millions, so this is a GROUP BY over the projects table.
A project is the work of a small named team, so a count of one returned or withdrawn project in
an organisation and month points at people: project counts are under the same disclosure control
as the counts of staff.
"""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import UK
from app.core.problems import NotFound
from app.models import ImprovementProject
from app.uptake.disclosure import Disclosure
from app.uptake.schemas import Interval, ProjectsReport, ProjectsRow
from app.uptake.service import periods


async def projects_report(
    session: AsyncSession,
    caller: Caller,
    *,
    organisation: str | None,
    interval: Interval | None,
    first: date | None,
    last: date | None,
) -> ProjectsReport:
    """Counts by organisation, status and outcome; with an interval, by the period in which
    each project was created (UK dates); ``first``/``last`` bound the creation date."""
    if organisation is not None and not caller.may_access(organisation):
        raise NotFound(f"No organisation {organisation}.")
    project = ImprovementProject
    columns = (project.organisation_ods_code, project.status, project.outcome)
    rows: list[tuple[str, tuple[date, date] | None, str, str | None, int]]
    if interval is None and first is None and last is None:
        query = select(*columns, func.count()).group_by(*columns)
        rows = [
            (org, None, status, outcome, n)
            for org, status, outcome, n in await session.execute(
                _filtered(query, caller, organisation)
            )
        ]
    else:
        rows = await _by_period(session, caller, organisation, interval, first, last)
    disclosure = Disclosure.for_caller(caller)
    return ProjectsReport(
        interval=interval,
        data=[
            ProjectsRow(
                organisation=org,
                period_start=span[0] if span else None,
                period_end=span[1] if span else None,
                status=status,
                outcome=outcome,
                projects=disclosure.figure(count),
                suppressed=disclosure.figure(count) is None,
            )
            for org, span, status, outcome, count in sorted(
                rows, key=lambda r: (r[0], r[1] or (date.min, date.min), r[2], r[3] or "")
            )
        ],
    )


def _filtered(query, caller: Caller, organisation: str | None):  # type: ignore[no-untyped-def]
    project = ImprovementProject
    if caller.organisations is not None:
        query = query.where(project.organisation_ods_code.in_(sorted(caller.organisations)))
    if organisation is not None:
        query = query.where(project.organisation_ods_code == organisation)
    return query


async def _by_period(
    session: AsyncSession,
    caller: Caller,
    organisation: str | None,
    interval: Interval | None,
    first: date | None,
    last: date | None,
) -> list[tuple[str, tuple[date, date] | None, str, str | None, int]]:
    project = ImprovementProject
    query = select(
        project.organisation_ods_code, project.status, project.outcome, project.created_at
    )
    rows = [
        (org, status, outcome, created.astimezone(UK).date())
        for org, status, outcome, created in await session.execute(
            _filtered(query, caller, organisation)
        )
    ]
    rows = [r for r in rows if (first is None or r[3] >= first) and (last is None or r[3] <= last)]
    spans = (
        periods(interval, min(r[3] for r in rows), max(r[3] for r in rows))
        if interval is not None and rows
        else []
    )
    counts: dict[tuple[str, tuple[date, date] | None, str, str | None], int] = {}
    for org, status, outcome, day in rows:
        span = next((s for s in spans if s[0] <= day <= s[1]), None)
        key = (org, span, status, outcome)
        counts[key] = counts.get(key, 0) + 1
    return [(*key, count) for key, count in counts.items()]
