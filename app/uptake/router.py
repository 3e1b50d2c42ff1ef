from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.problems import ValidationFailed
from app.core.schemas import IsoDate
from app.uptake import service
from app.uptake.board_router import router as board_router
from app.uptake.csv_format import csv_content, csv_response, wants_csv
from app.uptake.disclosure import DESCRIPTION as DISCLOSURE
from app.uptake.figure_cache import FRESHNESS, FRESHNESS_HEADERS, cached_figures, stamp
from app.uptake.projection_jobs import background_runner
from app.uptake.schemas import (
    Dimension,
    Interval,
    UptakeReport,
    UptakeRow,
    UptakeSeriesRow,
    UptakeTimeSeries,
)

# Every API process runs the projection worker (app/uptake/projection_jobs.py).
router = APIRouter(route_class=SessionRoute, tags=["Uptake"], lifespan=background_runner)

_CSV = (
    " Send `Accept: text/csv` for the same rows as CSV (a header line of the JSON names; "
    "empty for null)."
)

_DIMENSIONS = ("organisation", "staffGroup", "boardMember")
# Documented only (empty: no grouping): parse_group_by refuses anything else with its own 422.
_GROUP_BY_PATTERN = (
    "^(|"
    + "|".join([*_DIMENSIONS, *(f"{a},{b}" for a in _DIMENSIONS for b in _DIMENSIONS if a != b)])
    + ")$"
)
GroupBy = Annotated[
    str | None,
    Query(
        alias="groupBy",
        max_length=60,
        description="One or two of organisation, staffGroup, boardMember, comma-separated; "
        "none: the whole service (or what the filters select).",
        examples=["organisation,staffGroup"],
        json_schema_extra={"pattern": _GROUP_BY_PATTERN},
    ),
]
Organisation = Annotated[
    str | None, Query(pattern=ODS_CODE_PATTERN, description="ODS code.", examples=["7A4"])
]


def parse_group_by(value: str | None) -> list[Dimension]:
    names = [part.strip() for part in (value or "").split(",") if part.strip()]
    try:
        dimensions = [Dimension(name) for name in names]
    except ValueError:
        dimensions = []
        names = ["?"] * 3
    if len(names) > 2 or len(set(dimensions)) != len(names):
        raise ValidationFailed(
            "groupBy takes one or two different dimensions.",
            invalid_params=[("groupBy", "One or two of organisation, staffGroup, boardMember.")],
        )
    return dimensions


def _responses(example: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {"content": csv_content(example), "headers": FRESHNESS_HEADERS},
        **problem_responses(*AUTHENTICATED, 404, 422),
    }


_UPTAKE_CSV = (
    "asOf,organisation,staffGroup,boardMember,headcount,atLeastBronze,atLeastBronzePercentage,"
    "atLeastSilver,atLeastSilverPercentage,gold,goldPercentage,bronzeTargetPercentage,"
    "suppressed\r\n2026-11-26,7A4,,,16210,2430,15.0,210,1.3,,,100,true\r\n"
)


@router.get(
    "/uptake",
    summary="Uptake as of a date",
    response_model=UptakeReport,
    responses=_responses(_UPTAKE_CSV),
    description="For each group, the staff active on `asOf` (counted in the organisation, "
    "staff group and board they were in on that date) and how many held at least Bronze, at "
    "least Silver, and Gold on that date, with percentages and the Bronze target (100%). "
    "Organisation-restricted clients see their organisations only."
    + FRESHNESS
    + _CSV
    + "\n\n"
    + DISCLOSURE,
)
async def get_uptake(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.UPTAKE_READ)],
    group_by: GroupBy = None,
    organisation: Organisation = None,
    staff_group: Annotated[
        str | None, Query(alias="staffGroup", max_length=100, description="Name or code.")
    ] = None,
    as_of: Annotated[
        IsoDate | None, Query(alias="asOf", description="Default: today.", examples=["2026-03-31"])
    ] = None,
) -> UptakeReport | Response:
    """Headcount and holders of each level, by organisation, staff group or board."""
    dimensions = parse_group_by(group_by)
    report, freshness = await cached_figures(
        request,
        caller,
        session,
        ("uptake", tuple(dimensions), organisation, staff_group, as_of),
        lambda own_session, freshness: service.uptake_as_of(
            own_session,
            caller,
            request.app.state.settings,
            group_by=dimensions,
            organisation=organisation,
            staff_group=staff_group,
            as_of=as_of,
            freshness=freshness,
        ),
    )
    if wants_csv(request):
        return stamp(csv_response(UptakeRow, report.data), freshness)
    stamp(response, freshness)
    return report.model_copy(update={"freshness": freshness})


@router.get(
    "/uptake/timeSeries",
    summary="Uptake over time",
    response_model=UptakeTimeSeries,
    responses=_responses(
        "asOf,...,suppressed,periodStart,periodEnd\r\n"
        "2026-09-30,7A4,,,16180,2300,14.2,,,,,100,true,2026-07-01,2026-09-30\r\n"
    ),
    description="The figures of `GET /uptake` at the end of each month, quarter or year from "
    "the period holding `from` to the one holding `to` (today's figures for the period still "
    "running; periods not yet begun are left out)." + FRESHNESS + _CSV + "\n\n" + DISCLOSURE,
)
async def get_uptake_time_series(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.UPTAKE_READ)],
    interval: Annotated[Interval, Query(description="month, quarter or year.")] = Interval.MONTH,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="Default: a year before `to`.")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="Default: today.")] = None,
    group_by: GroupBy = None,
    organisation: Organisation = None,
) -> UptakeTimeSeries | Response:
    """Uptake at the end of each period, for trend charts."""
    first, last = service.span(from_, to)
    dimensions = parse_group_by(group_by)
    rows, freshness = await cached_figures(
        request,
        caller,
        session,
        ("timeSeries", interval, first, last, tuple(dimensions), organisation),
        lambda own_session, _: service.uptake_series(
            own_session,
            caller,
            request.app.state.settings,
            interval=interval,
            first=first,
            last=last,
            group_by=dimensions,
            organisation=organisation,
        ),
    )
    if wants_csv(request):
        return stamp(csv_response(UptakeSeriesRow, rows), freshness)
    stamp(response, freshness)
    return UptakeTimeSeries(
        interval=interval,
        from_=first,
        to=last,
        group_by=dimensions,
        freshness=freshness,
        data=rows,
    )


router.include_router(board_router)
