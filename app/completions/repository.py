"""Completion writes and reads: one statement per step for a whole batch."""

from collections.abc import Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.completions.rows import CompletionRow, CompletionView, Identification
from app.core.bulk import BuiltOnce, column_in, dialect_insert, insert_rows
from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import Completion, Course, StaffMember

UNMATCHED = "unmatched"
MATCHED = "matched"
# Up to this many rows are inserted with plain VALUES; more as one unnest statement.
_PLAIN_INSERT_ROWS = 50


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _view_query() -> Select[Any]:
    """A completion with its course code and the staff member it matched (if any): the
    columns of ``CompletionView``, in order."""
    return (
        select(
            *Completion.__table__.c,
            Course.code.label("course_code"),
            StaffMember.employee_number.label("matched_employee_number"),
            StaffMember.organisation_ods_code.label("organisation"),
        )
        .join(Course, Course.id == Completion.course_id)
        .outerjoin(StaffMember, StaffMember.id == Completion.staff_id)
    )


async def insert_completions(
    session: AsyncSession, rows: Sequence[CompletionRow], identified: Sequence[Identification]
) -> dict[str, int]:
    """Inserts the rows whose (client, external id) is new, as identified, in one statement;
    returns their ids by external id. A row already stored, or being stored by a concurrent
    transaction, is skipped by the unique constraint: the caller reads it back and compares."""
    if not rows:
        return {}
    statement = _INSERT_NEW(session)
    params = [_parameters(row, found) for row, found in zip(rows, identified, strict=True)]
    if len(rows) <= _PLAIN_INSERT_ROWS:
        # One multi-row VALUES statement: building the unnest form costs more than it saves.
        result = await session.execute(statement, params)
    else:
        result = await insert_rows(session, Completion.__table__, params, statement=statement)
    return {external_id: completion_id for completion_id, external_id in result.all()}


def _parameters(row: CompletionRow, found: Identification) -> dict[str, Any]:
    """The completions row's values, by column: the one place rows become SQL parameters
    (the retraction's columns start empty). Unpacked as ``CompletionView.recorded`` does."""
    (
        client_id,
        external_id,
        channel,
        course_id,
        employee_number,
        work_email,
        work_email_key,
        email_sha1,
        completed_at,
        passed,
        score_scaled,
        content_hash,
        created_at,
        _course_code,
    ) = row
    sender_organisations, staff_id, match_status, match_reason, matched_at, _, _ = found
    return {
        "client_id": client_id,
        "external_id": external_id,
        "channel": channel,
        "course_id": course_id,
        "employee_number": employee_number,
        "work_email": work_email,
        "work_email_key": work_email_key,
        "email_sha1": email_sha1,
        "completed_at": completed_at,
        "passed": passed,
        "score_scaled": score_scaled,
        "content_hash": content_hash,
        "staff_id": staff_id,
        "match_status": match_status,
        "match_reason": match_reason,
        "matched_at": matched_at,
        "sender_organisations": sender_organisations,
        "created_at": created_at,
        "updated_at": created_at,
    }


_INSERT_NEW = BuiltOnce(
    lambda dialect: (
        dialect_insert(dialect, Completion.__table__)
        .on_conflict_do_nothing(index_elements=["client_id", "external_id"])
        .returning(Completion.id, Completion.external_id)
    )
)


async def views_by_external_id(
    session: AsyncSession, client_id: str, external_ids: Sequence[str]
) -> dict[str, CompletionView]:
    if not external_ids:
        return {}
    rows = await session.execute(
        _view_query().where(
            Completion.client_id == client_id,
            column_in(session, Completion.external_id, external_ids),
        )
    )
    views = map(CompletionView._make, rows)
    return {view.external_id: view for view in views}


async def get_view(session: AsyncSession, completion_id: int) -> CompletionView | None:
    rows = await session.execute(_view_query().where(Completion.id == completion_id))
    row = rows.first()
    return CompletionView._make(row) if row is not None else None


async def retract(
    session: AsyncSession, completion_id: int, *, reason: str, by: str, at: datetime
) -> bool:
    """Marks the completion retracted; False when it already was (nothing written)."""
    result = await session.execute(
        update(Completion)
        .where(Completion.id == completion_id, Completion.retracted_at.is_(None))
        .values(retracted_at=at, retraction_reason=reason, retracted_by=by, updated_at=at)
        .returning(Completion.id)
    )
    return result.first() is not None


async def list_views(
    session: AsyncSession,
    page: PageRequest,
    *,
    client_id: str,
    visible_to: Set[str] | None,
    staff_id: int | None,
    employee_number: str | None,
    course_code: str | None,
    match_status: str | None,
    retracted: bool | None,
    since: datetime | None,
) -> PageResult[CompletionView]:
    query = _view_query()
    if visible_to is not None:
        # Restricted clients: their organisations' matched completions, and the unmatched
        # ones they sent themselves.
        query = query.where(
            or_(
                and_(
                    Completion.match_status == MATCHED,
                    StaffMember.organisation_ods_code.in_(sorted(visible_to)),
                ),
                and_(Completion.match_status == UNMATCHED, Completion.client_id == client_id),
            )
        )
    if employee_number is not None:
        sent_for = and_(
            Completion.match_status == UNMATCHED, Completion.employee_number == employee_number
        )
        query = query.where(
            or_(Completion.staff_id == staff_id, sent_for) if staff_id is not None else sent_for
        )
    if course_code is not None:
        query = query.where(Course.code == course_code)
    if match_status is not None:
        query = query.where(Completion.match_status == match_status)
    if retracted is not None:
        query = query.where(
            Completion.retracted_at.is_not(None) if retracted else Completion.retracted_at.is_(None)
        )
    if since is not None:
        query = query.where(Completion.updated_at >= since)
    rows = await session.execute(keyset(query, [Completion.id], page))
    return page_of(list(map(CompletionView._make, rows)), page, key=lambda view: [view.id])


async def staff_id_of(session: AsyncSession, employee_number: str) -> int | None:
    return await session.scalar(
        select(StaffMember.id).where(StaffMember.employee_number == employee_number)
    )
