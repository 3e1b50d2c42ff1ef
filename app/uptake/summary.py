"""Keeping the uptake summary exact: ``refresh_uptake`` after every change of staff or awards.

Whoever changes a person's staff record, dated history or awards calls
``refresh_uptake(session, staff_ids)`` in the same transaction, after the change is flushed. For
the whole batch it loads the facts in a few set-based queries, recomputes each person's
contribution (the pure ``person_deltas``), stores it, and keeps new - old with the session.
When the transaction commits, everything it kept is added to ``uptake_buckets`` with one
additive upsert, as part of the same transaction: a dashboard never sees a stale or
half-applied figure, and the bucket rows every writer shares are locked only while a
transaction commits, not from its first change until then.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, column, delete, event, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.core.bulk import (
    BuiltOnce,
    column_in,
    dialect_insert,
    in_parameter,
    insert_rows,
    insert_rows_statement,
    is_postgresql,
)
from app.core.clock import UK
from app.core.settings import get_settings
from app.models import StaffHistory, StaffMember
from app.models.base import BigIntegerId, UTCDateTime
from app.models.uptake import UptakeBucket, UptakePersonDelta
from app.uptake.contributions import (
    MEASURES,
    AwardSpan,
    Cell,
    Deltas,
    Period,
    PersonFacts,
    add,
    difference,
    person_deltas,
)

CHUNK = 5000
# The columns of the awards table (app/models/award.py, the awards domain) read here, named
# without importing its ORM class so that the two domains stay independent.
AWARDS = table(
    "awards",
    column("staff_id", BigIntegerId),
    column("level", String()),
    column("granted_at", UTCDateTime()),
    column("revoked_at", UTCDateTime()),
)
_CELL_COLUMNS = ("organisation_ods_code", "staff_group_code", "board_member")
# Session.info key: the (day, cell) deltas a transaction has yet to add to the buckets.
_PENDING = "iqt.uptake.pending_deltas"


def fold_day(day: date, programme_start: date) -> date:
    """Deltas before the programme start are kept on the day before it (a read never asks
    for an earlier date), so a summary holds no more than one row per cell for them."""
    return max(day, programme_start - timedelta(days=1))


def bucket_starts(day: date) -> tuple[tuple[str, date], ...]:
    return (("d", day), ("m", day.replace(day=1)), ("y", day.replace(month=1, day=1)))


async def refresh_uptake(
    session: AsyncSession,
    staff_ids: Iterable[int],
    *,
    locked: bool = False,
    known: Mapping[int, PersonFacts] | None = None,
) -> None:
    """Brings the uptake summary up to date for these people (any number; in chunks).

    ``locked``: the caller already holds these people's staff rows locked in this transaction
    (it has just written them), so they need not be locked again.
    ``known``: the facts of some of them as the caller has just written them (people it has
    just created: their staff row and first history period, and no awards yet), so they need
    not be read back.
    """
    ids = sorted(set(staff_ids))
    programme_start = get_settings().uptake_programme_start
    for index in range(0, len(ids), CHUNK):
        chunk = ids[index : index + CHUNK]
        await _refresh_chunk(session, chunk, programme_start, locked, known or {})


def new_person_facts(
    staff_id: int, start_date: date, end_date: date | None, cell: Cell
) -> PersonFacts:
    """The facts of a person just created: one period from the start, no awards yet."""
    return PersonFacts(
        staff_id=staff_id,
        start_date=start_date,
        end_date=end_date,
        current_cell=cell,
        periods=[Period(start_date, None, cell)],
        awards=[],
    )


async def _refresh_chunk(
    session: AsyncSession,
    ids: Sequence[int],
    programme_start: date,
    locked: bool,
    known: Mapping[int, PersonFacts],
) -> None:
    if is_postgresql(session) and not locked:
        # Two transactions refreshing one person take turns, so each applies new - old
        # against the other's committed result; ids in order, so they never deadlock.
        await session.execute(
            select(StaffMember.id)
            .where(column_in(session, StaffMember.id, ids))
            .order_by(StaffMember.id)
            .with_for_update(key_share=True)
        )
    to_read = [i for i in ids if i not in known]
    facts = await load_facts(session, to_read)
    facts.update((i, known[i]) for i in ids if i in known)
    # People just created have nothing stored yet.
    old = await _stored_deltas(session, to_read)
    pending = _pending(session)
    changed: list[int] = []
    new_rows: list[dict[str, Any]] = []
    for staff_id in ids:
        person = facts.get(staff_id)
        new = person_deltas(person) if person is not None else {}
        stored = old.get(staff_id)
        change = difference(new, stored) if stored else new
        if not change:
            continue
        changed.append(staff_id)
        new_rows.extend(
            _person_row(staff_id, day, cell, counts) for (day, cell), counts in new.items()
        )
        for (day, cell), counts in change.items():
            key = (fold_day(day, programme_start), cell)
            pending[key] = add(pending.get(key, (0, 0, 0, 0)), counts)
    if not changed:
        return
    replaced = [staff_id for staff_id in changed if staff_id in old]
    if replaced:
        await session.execute(
            delete(UptakePersonDelta).where(
                column_in(session, UptakePersonDelta.staff_id, replaced)
            )
        )
    await insert_rows(session, UptakePersonDelta.__table__, new_rows)


def _person_row(staff_id: int, day: date, cell: Cell, counts: tuple[int, ...]) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "day": day,
        **_cell_values(cell),
        **dict(zip(MEASURES, counts, strict=True)),
    }


def _cell_values(cell: Cell) -> dict[str, Any]:
    return {
        "organisation_ods_code": cell.organisation,
        "staff_group_code": cell.staff_group,
        "board_member": cell.board_member,
    }


def _pending(session: AsyncSession) -> Deltas:
    """The (day, cell) deltas this session's transaction adds to the buckets as it commits."""
    sync_session = session.sync_session
    assert not sync_session.in_nested_transaction(), "uptake is refreshed outside savepoints"
    pending: Deltas = sync_session.info.setdefault(_PENDING, {})
    return pending


@event.listens_for(Session, "before_commit")
def _apply_pending(session: Session) -> None:
    """Adds the transaction's deltas to the buckets as it commits: one statement, in the same
    transaction, locking the (few, shared) bucket rows only for the commit itself."""
    pending = session.info.pop(_PENDING, None)
    if pending:
        statement, parameters = bucket_upsert(session, pending)
        if statement is not None:
            session.execute(statement, parameters)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def bucket_upsert(session: Session, deltas: Deltas) -> tuple[Any, Any]:
    """The statement adding these (day, cell) deltas to the day, month and year buckets (None
    when they cancel out). Rows in key order, so that concurrent commits never deadlock."""
    buckets: dict[tuple[str, date, Cell], list[int]] = {}
    for (day, cell), counts in deltas.items():
        for grain, start in bucket_starts(day):
            sums = buckets.setdefault((grain, start, cell), [0, 0, 0, 0])
            for index, value in enumerate(counts):
                sums[index] += value
    rows = [
        {
            "grain": grain,
            "period_start": start,
            **_cell_values(cell),
            **dict(zip(MEASURES, sums, strict=True)),
        }
        for (grain, start, cell), sums in sorted(buckets.items())
        if any(sums)
    ]
    if not rows:
        return None, None
    return insert_rows_statement(
        session, UptakeBucket.__table__, rows, statement=_ADD_TO_BUCKETS(session)
    )


def _add_to_buckets(dialect: str) -> Any:
    table: Any = UptakeBucket.__table__
    statement = dialect_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["grain", "period_start", *_CELL_COLUMNS],
        set_={m: table.c[m] + statement.excluded[m] for m in MEASURES},
    )


_ADD_TO_BUCKETS = BuiltOnce(_add_to_buckets)


async def load_facts(session: AsyncSession, ids: Sequence[int]) -> dict[int, PersonFacts]:
    """Staff rows, dated history and awards of these people: three queries."""
    if not ids:
        return {}
    parameters = {"ids": list(ids)}
    staff = (await session.execute(_STAFF(session), parameters)).all()
    periods: dict[int, list[Period]] = {}
    history = await session.execute(_HISTORY(session), parameters)
    for staff_id, valid_from, valid_to, org, group, board in history:
        periods.setdefault(staff_id, []).append(
            Period(valid_from, valid_to, Cell(org, group, board))
        )
    awards: dict[int, list[AwardSpan]] = {}
    for staff_id, level, granted_at, revoked_at in await session.execute(
        _AWARD_SPANS(session), parameters
    ):
        revoked_on = revoked_at.astimezone(UK).date() if revoked_at is not None else None
        awards.setdefault(staff_id, []).append(
            AwardSpan(level, granted_at.astimezone(UK).date(), revoked_on)
        )
    return {
        row.id: PersonFacts(
            staff_id=row.id,
            start_date=row.start_date,
            end_date=row.end_date,
            current_cell=Cell(row.organisation_ods_code, row.staff_group_code, row.board_member),
            periods=periods.get(row.id, []),
            awards=awards.get(row.id, []),
        )
        for row in staff
    }


_STAFF = BuiltOnce(
    lambda dialect: select(
        StaffMember.id,
        StaffMember.start_date,
        StaffMember.end_date,
        *(getattr(StaffMember, c) for c in _CELL_COLUMNS),
    ).where(in_parameter(dialect, StaffMember.id, "ids"))
)
_HISTORY = BuiltOnce(
    lambda dialect: select(
        StaffHistory.staff_id,
        StaffHistory.valid_from,
        StaffHistory.valid_to,
        *(getattr(StaffHistory, c) for c in _CELL_COLUMNS),
    ).where(in_parameter(dialect, StaffHistory.staff_id, "ids"))
)
_AWARD_SPANS = BuiltOnce(
    lambda dialect: select(
        AWARDS.c.staff_id, AWARDS.c.level, AWARDS.c.granted_at, AWARDS.c.revoked_at
    ).where(in_parameter(dialect, AWARDS.c.staff_id, "ids"))
)


async def _stored_deltas(session: AsyncSession, ids: Sequence[int]) -> dict[int, Deltas]:
    if not ids:
        return {}
    rows = await session.execute(_STORED(session), {"ids": list(ids)})
    stored: dict[int, Deltas] = {}
    for staff_id, day, org, group, board, *counts in rows:
        stored.setdefault(staff_id, {})[(day, Cell(org, group, board))] = tuple(counts)
    return stored


_STORED = BuiltOnce(
    lambda dialect: select(
        UptakePersonDelta.staff_id,
        UptakePersonDelta.day,
        *(getattr(UptakePersonDelta, c) for c in _CELL_COLUMNS),
        *(getattr(UptakePersonDelta, m) for m in MEASURES),
    ).where(in_parameter(dialect, UptakePersonDelta.staff_id, "ids"))
)


async def rebuild_uptake(session: AsyncSession) -> int:
    """Recomputes the whole summary from the facts (after a change of programme start, or to
    build it for data loaded around the service); returns the number of people."""
    await session.execute(delete(UptakeBucket))
    await session.execute(delete(UptakePersonDelta))
    last = int(await session.scalar(select(func.max(StaffMember.id))) or 0)
    done, after = 0, 0
    while after < last:
        ids = list(
            await session.scalars(
                select(StaffMember.id)
                .where(StaffMember.id > after)
                .order_by(StaffMember.id)
                .limit(CHUNK)
            )
        )
        if not ids:
            break
        await refresh_uptake(session, ids)
        done, after = done + len(ids), ids[-1]
    return done
