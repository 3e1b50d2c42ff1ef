"""Board coverage (board members holding at least Bronze) and board meetings discussing QI."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.core.problems import Conflict, ValidationFailed
from app.core.settings import Settings
from app.models import BoardMeeting, Organisation
from app.uptake import service
from app.uptake.contributions import Counts
from app.uptake.disclosure import Disclosure, percentage
from app.uptake.repository import CellKey
from app.uptake.schemas import (
    BoardMeetingPut,
    BoardReport,
    BoardRow,
    Dimension,
    Interval,
    UptakeFreshness,
)


@dataclass(frozen=True)
class PutResult:
    meeting: BoardMeeting
    created: bool


async def put_board_meeting(
    session: AsyncSession,
    caller: Caller,
    meeting_id: str,
    body: BoardMeetingPut,
    if_match: str | None,
) -> PutResult:
    """Records or replaces a board meeting; one that changes nothing writes nothing."""
    existing = await session.get(BoardMeeting, meeting_id)
    if existing is not None and not caller.may_access(existing.organisation_ods_code):
        # Ids are global: said without saying where the meeting is (README, "Organisation
        # restriction").
        raise Conflict(
            f"Board meeting id {meeting_id} cannot be used by this client.",
            invalid_params=[("id", "Cannot be used by this client.")],
        )
    if not caller.may_access(body.organisation) or (
        await session.scalar(
            select(Organisation.ods_code).where(Organisation.ods_code == body.organisation)
        )
        is None
    ):
        raise ValidationFailed(
            f"Unknown organisation {body.organisation}.",
            invalid_params=[("organisation", "No such organisation for this client.")],
        )
    caller.note_audit(
        "update" if existing else "create", "boardMeeting", meeting_id, body.organisation
    )
    check_if_match(if_match, existing.version if existing else 0)
    values = {
        "organisation_ods_code": body.organisation,
        "meeting_date": body.meeting_date,
        "qi_discussed": body.qi_discussed,
        "agenda_reference": body.agenda_reference,
    }
    if existing is None:
        meeting = BoardMeeting(meeting_id=meeting_id, version=1, **values)
        session.add(meeting)
        await session.flush()
        return PutResult(meeting, True)
    if any(getattr(existing, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(existing, name, value)
        existing.version += 1
        await session.flush()
    return PutResult(existing, False)


async def list_board_meetings(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    organisation: str | None,
    first: date | None,
    last: date | None,
) -> PageResult[BoardMeeting]:
    query = select(BoardMeeting)
    if caller.organisations is not None:
        query = query.where(BoardMeeting.organisation_ods_code.in_(sorted(caller.organisations)))
    if organisation is not None:
        query = query.where(BoardMeeting.organisation_ods_code == organisation)
    if first is not None:
        query = query.where(BoardMeeting.meeting_date >= first)
    if last is not None:
        query = query.where(BoardMeeting.meeting_date <= last)
    rows = (await session.scalars(keyset(query, [BoardMeeting.meeting_id], page))).all()
    return page_of(list(rows), page, key=lambda m: [m.meeting_id])


async def board_report(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    *,
    interval: Interval,
    first: date,
    last: date,
    organisation: str | None,
    freshness: UptakeFreshness,
) -> BoardReport:
    """Per organisation and period: board coverage at the period end, meetings within it."""
    service.check_date(settings, "from", first)
    cells = await service.cell_filter(session, caller, organisation, None, board_member=True)
    now = today()
    spans = [(s, e) for s, e in service.periods(interval, first, last) if s <= now]
    meetings = await _meeting_counts(session, cells.visible_to, organisation, spans)
    disclosure = Disclosure.for_caller(caller)
    rows: list[BoardRow] = []
    ends = [min(e, now) for _, e in spans]
    totals = await service.totals_at_ends(session, ends, cells) if spans else []
    for (start, end), at_end in zip(spans, totals, strict=True):
        figures = coverage(at_end, disclosure)
        held = {org for org, s in meetings if s == start}
        for org in sorted(set(figures) | held):
            cover = figures.get(org, NO_BOARD)
            held_count, discussed = meetings.get((org, start), (0, 0))
            rows.append(
                BoardRow(
                    organisation=org,
                    period_start=start,
                    period_end=end,
                    as_of=min(end, now),
                    board_members=cover.board_members,
                    at_least_bronze=cover.at_least_bronze,
                    at_least_bronze_percentage=cover.at_least_bronze_percentage,
                    below_target=cover.below_target,
                    meetings_held=held_count,
                    meetings_discussing_qi=discussed,
                    suppressed=cover.suppressed,
                )
            )
    final = spans[-1][0] if spans else None
    below = sorted(r.organisation for r in rows if r.period_start == final and r.below_target)
    return BoardReport(
        interval=interval,
        from_=first,
        to=last,
        organisations_below_target=below,
        freshness=freshness,
        data=rows,
    )


@dataclass(frozen=True)
class Coverage:
    board_members: int | None
    at_least_bronze: int | None
    at_least_bronze_percentage: float | None
    below_target: bool
    suppressed: bool


NO_BOARD = Coverage(0, 0, None, False, False)


def coverage(at_end: Mapping[CellKey, Counts], disclosure: Disclosure) -> dict[str, Coverage]:
    """Each organisation's board coverage from the cells of its board members: the figures
    `GET /uptake` gives for them, each count controlled on its own for the caller.
    ``below_target`` comes from the exact counts: it tells zero from not zero (board members
    without Bronze), as a published count of 0 does."""
    result = {}
    for (org, *_), (members, bronze, *_) in service.group_totals(
        at_end, [Dimension.ORGANISATION]
    ).items():
        shown_members, shown_bronze = disclosure.figure(members), disclosure.figure(bronze)
        result[str(org)] = Coverage(
            board_members=shown_members,
            at_least_bronze=shown_bronze,
            at_least_bronze_percentage=percentage(shown_bronze, shown_members),
            below_target=bronze < members,
            suppressed=shown_members is None or shown_bronze is None,
        )
    return result


async def _meeting_counts(
    session: AsyncSession,
    visible_to: object,
    organisation: str | None,
    spans: list[tuple[date, date]],
) -> dict[tuple[str, date], tuple[int, int]]:
    """(meetings held, meetings that discussed QI) by organisation and period start."""
    if not spans:
        return {}
    query = select(
        BoardMeeting.organisation_ods_code, BoardMeeting.meeting_date, BoardMeeting.qi_discussed
    ).where(BoardMeeting.meeting_date >= spans[0][0], BoardMeeting.meeting_date <= spans[-1][1])
    if isinstance(visible_to, frozenset):
        query = query.where(BoardMeeting.organisation_ods_code.in_(sorted(visible_to)))
    if organisation is not None:
        query = query.where(BoardMeeting.organisation_ods_code == organisation)
    counts: dict[tuple[str, date], tuple[int, int]] = {}
    for org, day, discussed in await session.execute(query):
        start = next(s for s, e in spans if s <= day <= e)
        held, qi = counts.get((org, start), (0, 0))
        counts[(org, start)] = (held + 1, qi + int(bool(discussed)))
    return counts
