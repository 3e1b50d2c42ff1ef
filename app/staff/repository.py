"""Staff queries and bulk writes: one statement per batch chunk, never one per record."""

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Result, Row, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import (
    BuiltOnce,
    column_in,
    columns_of,
    dialect_insert,
    insert_columns,
    rows_by_unique_key,
)
from app.core.clock import utcnow
from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.core.problems import ConcurrentChange
from app.models import Organisation, StaffGroup, StaffHistory, StaffMember
from app.models.staff import OPEN_PERIOD_INDEX
from app.staff.fields import FIELDS, HISTORY_COLUMNS, HR_COLUMNS, StaffRow
from app.staff.records import mbox_sha1sum

# Written by an upsert that changes a record: what HR owns, and the columns computed from it.
_REWRITTEN = (*HR_COLUMNS, *(column for f in FIELDS for column in f.derived))


class StaffPeriod(NamedTuple):
    """Where ``row`` places a person from ``valid_from`` until (not including) ``valid_to``:
    a staff_history row (its ``HISTORY_COLUMNS`` taken from ``row``)."""

    staff_id: int
    valid_from: date
    valid_to: date | None
    row: StaffRow


async def staff_group_lookup(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Staff group by code and by lower-cased name → (code, name)."""
    rows = (await session.execute(select(StaffGroup.code, StaffGroup.name))).all()
    lookup: dict[str, tuple[str, str]] = {}
    for code, name in rows:
        lookup[code] = (code, name)
        lookup[name.casefold()] = (code, name)
    return lookup


async def organisation_codes(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(Organisation.ods_code))).all())


async def get_by_employee_number(session: AsyncSession, employee_number: str) -> StaffMember | None:
    return await session.scalar(
        select(StaffMember).where(StaffMember.employee_number == employee_number)
    )


async def existing_by_employee_number(
    session: AsyncSession, employee_numbers: Sequence[str]
) -> dict[str, Row[Any]]:
    """The current values (``HR_COLUMNS`` first, in order), id and version of these people;
    nothing is locked: the upsert writes a row only if its version is still the one read here."""
    if not employee_numbers:
        return {}
    query = rows_by_unique_key(
        session,
        [
            *(getattr(StaffMember, column) for column in HR_COLUMNS),
            StaffMember.id,
            StaffMember.employee_number,
            StaffMember.version,
        ],
        StaffMember.employee_number,
        employee_numbers,
    )
    result: Result[Any] = await session.execute(query)
    return {row.employee_number: row for row in result}


async def upsert_staff(
    session: AsyncSession, rows: Sequence[StaffRow], versions: Mapping[str, int]
) -> dict[str, int]:
    """Creates and updates these records, one statement for each; returns id by employee
    number.

    A row to update has the ``version`` it was read at (by employee number) and is written only
    if that is still its version (optimistic concurrency); a row to create (no version) is
    written only if nobody has the employee number yet, in any organisation. Either way a
    concurrent request that wrote the person first makes the whole request fail (409
    ``concurrent-change``, to be sent again) instead of overwriting what the other wrote, or
    taking its creation for one of its own.
    """
    now = utcnow()
    creates = [row for row in rows if row.employee_number not in versions]
    updates = [row for row in rows if row.employee_number in versions]
    ids: dict[str, int] = {}
    for statement, chosen in ((_CREATE, creates), (_UPSERT, updates)):
        if chosen:
            result = await insert_columns(
                session,
                StaffMember.__table__,
                _staff_columns(chosen, versions, now),
                statement=statement(session),
            )
            ids.update({employee_number: staff_id for staff_id, employee_number in result.all()})
    if len(ids) != len(rows):
        taken = sorted(r.employee_number for r in rows if r.employee_number not in ids)
        raise ConcurrentChange(
            f"Staff record {taken[0]}"
            + (f" and {len(taken) - 1} other(s)" if len(taken) > 1 else "")
            + " was created or changed by another request at the same time; nothing was "
            "stored. Send the request again.",
            extensions={"employeeNumbers": taken[:100]},
        )
    return ids


def _staff_columns(
    rows: Sequence[StaffRow], versions: Mapping[str, int], now: datetime
) -> dict[str, Sequence[Any]]:
    """The staff_members columns of these rows (their values column by column): the rows'
    own, the columns computed from the work e-mail, the times and the version each is written
    at (1 for a new person)."""
    columns = columns_of(StaffRow._fields, rows)
    keys = [row.work_email_key for row in rows]
    columns["work_email_key"] = keys
    columns["work_email_sha1"] = [key and mbox_sha1sum(key) for key in keys]
    columns["created_at"] = [now] * len(rows)
    columns["updated_at"] = [now] * len(rows)
    columns["version"] = [versions.get(row.employee_number, 1) for row in rows]
    return columns


def _create_statement(dialect: str) -> Any:
    return (
        dialect_insert(dialect, StaffMember.__table__)
        .on_conflict_do_nothing(index_elements=[StaffMember.employee_number])
        .returning(StaffMember.id, StaffMember.employee_number)
    )


_CREATE = BuiltOnce(_create_statement)


def _upsert_statement(dialect: str) -> Any:
    statement = dialect_insert(dialect, StaffMember.__table__)
    return statement.on_conflict_do_update(
        index_elements=[StaffMember.employee_number],
        set_={
            **{column: statement.excluded[column] for column in _REWRITTEN},
            "version": StaffMember.version + 1,
            "updated_at": statement.excluded.updated_at,
        },
        where=StaffMember.version == statement.excluded.version,
    ).returning(StaffMember.id, StaffMember.employee_number)


_UPSERT = BuiltOnce(_upsert_statement)


async def current_history(
    session: AsyncSession, staff_ids: Iterable[int]
) -> dict[int, tuple[int, date]]:
    """The open history row (id, valid_from) of each person."""
    ids = list(staff_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffHistory.staff_id, StaffHistory.id, StaffHistory.valid_from).where(
            column_in(session, StaffHistory.staff_id, ids), StaffHistory.valid_to.is_(None)
        )
    )
    return {staff_id: (history_id, valid_from) for staff_id, history_id, valid_from in rows}


async def close_history(session: AsyncSession, history_ids: Sequence[int], on: date) -> None:
    if history_ids:
        await session.execute(
            update(StaffHistory).where(StaffHistory.id.in_(list(history_ids))).values(valid_to=on)
        )


async def delete_history(session: AsyncSession, history_ids: Sequence[int]) -> None:
    if history_ids:
        await session.execute(delete(StaffHistory).where(StaffHistory.id.in_(list(history_ids))))


async def insert_history(session: AsyncSession, periods: Sequence[StaffPeriod]) -> None:
    """Inserts history periods. The database holds at most one open period per person
    (``uq_staff_history_staff_id_open``): a second, which only a concurrent write of the same
    person could make, is refused as a concurrent change."""
    if not periods:
        return
    staff_ids, valid_from, valid_to, rows = zip(*periods, strict=True)
    placements = columns_of(StaffRow._fields, rows)
    columns = {
        "staff_id": staff_ids,
        "valid_from": valid_from,
        "valid_to": valid_to,
        **{column: placements[column] for column in HISTORY_COLUMNS},
    }
    try:
        await insert_columns(session, StaffHistory.__table__, columns)
    except IntegrityError as error:
        message = str(error.orig)
        # PostgreSQL names the index; SQLite names the column.
        if OPEN_PERIOD_INDEX not in message and "staff_history.staff_id" not in message:
            raise
        raise ConcurrentChange(
            "A staff record was changed by another request at the same time; nothing was "
            "stored. Send the request again."
        ) from None


async def active_in_organisation(session: AsyncSession, ods_code: str, on: date) -> list[Any]:
    """(id, employee_number, start_date) of everyone active in the organisation on a date."""
    rows = await session.execute(
        select(StaffMember.id, StaffMember.employee_number, StaffMember.start_date).where(
            StaffMember.organisation_ods_code == ods_code,
            or_(StaffMember.end_date.is_(None), StaffMember.end_date >= on),
        )
    )
    return list(rows.all())


async def written_since(session: AsyncSession, ods_code: str, since: datetime) -> set[str]:
    """Employee numbers of the organisation's staff created or changed after ``since``."""
    numbers = await session.scalars(
        select(StaffMember.employee_number).where(
            StaffMember.organisation_ods_code == ods_code, StaffMember.updated_at > since
        )
    )
    return set(numbers)


async def end_date_staff(
    session: AsyncSession, staff_ids: Sequence[int], end: date
) -> list[tuple[int, str, str | None]]:
    """Sets the end date of these leavers (one statement): their (id, employee number, work
    e-mail key)."""
    if not staff_ids:
        return []
    result = await session.execute(
        update(StaffMember)
        .where(StaffMember.id.in_(list(staff_ids)))
        .values(end_date=end, version=StaffMember.version + 1, updated_at=utcnow())
        .returning(StaffMember.id, StaffMember.employee_number, StaffMember.work_email_key)
    )
    return [(i, number, key) for i, number, key in result.all()]


async def bump_versions(session: AsyncSession, staff_ids: Sequence[int]) -> None:
    if staff_ids:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id.in_(list(staff_ids)))
            .values(version=StaffMember.version + 1)
        )


async def list_staff(
    session: AsyncSession,
    page: PageRequest,
    *,
    visible_to: Set[str] | None,
    organisation: str | None,
    staff_group_code: str | None,
    board_member: bool | None,
    active_on: date | None,
    inactive_on: date | None,
    updated_since: datetime | None,
) -> PageResult[tuple[StaffMember, str]]:
    query = select(StaffMember, StaffGroup.name).join(
        StaffGroup, StaffGroup.code == StaffMember.staff_group_code
    )
    if visible_to is not None:
        query = query.where(StaffMember.organisation_ods_code.in_(sorted(visible_to)))
    if organisation is not None:
        query = query.where(StaffMember.organisation_ods_code == organisation)
    if staff_group_code is not None:
        query = query.where(StaffMember.staff_group_code == staff_group_code)
    if board_member is not None:
        query = query.where(StaffMember.board_member.is_(board_member))
    if active_on is not None:
        query = query.where(_active(active_on))
    if inactive_on is not None:
        query = query.where(~_active(inactive_on))
    if updated_since is not None:
        query = query.where(StaffMember.updated_at >= updated_since)
    rows = (await session.execute(keyset(query, [StaffMember.id], page))).all()
    return page_of([(r[0], r[1]) for r in rows], page, key=lambda r: [r[0].id])


def _active(on: date) -> Any:
    return and_(
        StaffMember.start_date <= on,
        or_(StaffMember.end_date.is_(None), StaffMember.end_date >= on),
    )


async def history_of(session: AsyncSession, staff_id: int) -> list[Any]:
    rows = await session.execute(
        select(
            StaffHistory.valid_from,
            StaffHistory.valid_to,
            StaffHistory.organisation_ods_code,
            StaffGroup.name.label("staff_group"),
            StaffHistory.board_member,
        )
        .join(StaffGroup, StaffGroup.code == StaffHistory.staff_group_code)
        .where(StaffHistory.staff_id == staff_id)
        .order_by(StaffHistory.valid_from, StaffHistory.id)
    )
    return list(rows.all())


async def staff_group_name(session: AsyncSession, code: str) -> str:
    return str(await session.scalar(select(StaffGroup.name).where(StaffGroup.code == code)))


async def count_staff(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(StaffMember)) or 0)
