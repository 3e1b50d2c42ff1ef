"""HTTP for board coverage, board meetings and project counts (mounted by app/uptake/router)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.etag import IfMatch, etag_for, etag_header
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageRequest, build_page, page_request
from app.core.schemas import IsoDate
from app.uptake import board, projects, service
from app.uptake.csv_format import csv_content, csv_response, wants_csv
from app.uptake.disclosure import DESCRIPTION as DISCLOSURE
from app.uptake.figure_cache import (
    FRESHNESS,
    FRESHNESS_HEADERS,
    KEPT,
    cached,
    cached_figures,
    stamp,
)
from app.uptake.schemas import (
    MEETING_ID_PATTERN,
    BoardMeetingPage,
    BoardMeetingPut,
    BoardMeetingRead,
    BoardReport,
    BoardRow,
    Interval,
    ProjectsReport,
    ProjectsRow,
)

router = APIRouter(
    route_class=SessionRoute
)  # tagged "Uptake" by the uptake router that includes it
ETAG_HEADER = etag_header("the meeting")
Organisation = Annotated[
    str | None, Query(pattern=ODS_CODE_PATTERN, description="ODS code.", examples=["7A4"])
]
_CSV = " Send `Accept: text/csv` for the same rows as CSV (header line; empty for null)."


@router.get(
    "/uptake/board",
    summary="Board coverage and board meetings",
    response_model=BoardReport,
    responses={
        200: {
            "content": csv_content(
                "organisation,periodStart,periodEnd,asOf,boardMembers,atLeastBronze,"
                "atLeastBronzePercentage,bronzeTargetPercentage,belowTarget,meetingsHeld,"
                "meetingsDiscussingQi,suppressed\r\n"
                "7A4,2026-07-01,2026-09-30,2026-09-30,15,10,66.7,100,true,3,2,false\r\n"
            ),
            "headers": FRESHNESS_HEADERS,
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    description="Per organisation and period: the board members active at the period end (today "
    "for the period still running), how many held at least Bronze (target: all of them), "
    "whether the board is below target, and how many board meetings were held in the period "
    "and how many discussed QI. `organisationsBelowTarget` lists those below target at the end "
    "of the last period. Coverage counts are under disclosure control: they are the figures "
    "`GET /uptake?groupBy=organisation,boardMember` gives for board members on the same date. "
    "`belowTarget` tells only whether the number of board members without Bronze is zero. "
    "Meeting counts count board meetings, not people, and are exact."
    + FRESHNESS
    + _CSV
    + "\n\n"
    + DISCLOSURE,
)
async def get_board_uptake(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.UPTAKE_READ)],
    interval: Annotated[Interval, Query(description="month, quarter or year.")] = Interval.QUARTER,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="Default: a year before `to`.")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="Default: today.")] = None,
    organisation: Organisation = None,
) -> BoardReport | Response:
    """Board members holding Bronze, and board meetings discussing QI, per organisation."""
    first, last = service.span(from_, to)
    report, freshness = await cached_figures(
        request,
        caller,
        session,
        ("board", interval, first, last, organisation),
        lambda own_session, freshness: board.board_report(
            own_session,
            caller,
            request.app.state.settings,
            interval=interval,
            first=first,
            last=last,
            organisation=organisation,
            freshness=freshness,
        ),
    )
    if wants_csv(request):
        return stamp(csv_response(BoardRow, report.data), freshness)
    stamp(response, freshness)
    return report.model_copy(update={"freshness": freshness})


@router.get(
    "/uptake/projects",
    summary="Improvement projects by status and outcome",
    response_model=ProjectsReport,
    responses={
        200: {
            "content": csv_content(
                "organisation,periodStart,periodEnd,status,outcome,projects,suppressed\r\n"
                "7A4,2026-01-01,2026-12-31,approved,improved,15,false\r\n"
            )
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    description="Counts of improvement projects per organisation, status and outcome; with "
    "`interval`, per period of creation; `from`/`to` bound the creation date. A project is the "
    "work of a small named team, so project counts are under the same disclosure control as "
    "counts of staff." + KEPT + _CSV + "\n\n" + DISCLOSURE,
)
async def get_project_uptake(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.UPTAKE_READ)],
    organisation: Organisation = None,
    interval: Annotated[Interval | None, Query(description="Count per period.")] = None,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
) -> ProjectsReport | Response:
    """Improvement projects by status and outcome, per organisation."""
    report = await cached(
        request,
        caller,
        session,
        ("projects", organisation, interval, from_, to),
        lambda own_session: projects.projects_report(
            own_session, caller, organisation=organisation, interval=interval, first=from_, last=to
        ),
    )
    return csv_response(ProjectsRow, report.data) if wants_csv(request) else report


@router.put(
    "/boardMeetings/{id}",
    summary="Record a board meeting",
    response_model=BoardMeetingRead,
    responses={
        200: {"description": "Replaced, or unchanged.", "headers": ETAG_HEADER},
        201: {"description": "Recorded.", "model": BoardMeetingRead, "headers": ETAG_HEADER},
        **problem_responses(*AUTHENTICATED, 404, 409, 412, 413, 422),
    },
)
async def put_board_meeting(
    meeting_id: Annotated[
        str,
        Path(
            alias="id",
            pattern=MEETING_ID_PATTERN,
            description="The recording system's id.",
            examples=["7A4-2026-11-05"],
        ),
    ],
    body: BoardMeetingPut,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.ORGANISATIONS_WRITE)],
    if_match: IfMatch = None,
) -> BoardMeetingRead:
    """Records (201) or replaces (200) a board meeting and whether it discussed QI. Meeting ids
    are unique across all organisations: for a client limited to some, an id held by another
    organisation's meeting answers 409 "cannot be used by this client", never saying where."""
    result = await board.put_board_meeting(session, caller, meeting_id, body, if_match)
    response.headers["ETag"] = etag_for(result.meeting.version)
    if result.created:
        response.status_code = 201
    return BoardMeetingRead.model_validate(result.meeting)


@router.get(
    "/boardMeetings",
    summary="List board meetings",
    response_model=BoardMeetingPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_board_meetings(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.ORGANISATIONS_READ)],
    page: Annotated[PageRequest, page_request("boardMeetings")],
    organisation: Organisation = None,
    from_: Annotated[IsoDate | None, Query(alias="from", description="Held on or after.")] = None,
    to: Annotated[IsoDate | None, Query(description="Held on or before.")] = None,
) -> BoardMeetingPage:
    """Board meetings visible to this client, ordered by id."""
    result = await board.list_board_meetings(
        session, caller, page, organisation=organisation, first=from_, last=to
    )
    return build_page(BoardMeetingPage, BoardMeetingRead, request, page, result)
