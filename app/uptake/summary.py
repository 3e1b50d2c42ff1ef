"""Refreshing the uptake summary: ``refresh_uptake`` recomputes people's contributions.

The projection worker (``app/uptake/projection_jobs.py``) calls ``refresh_uptake(session,
staff_ids)`` for the people writers noted as changed (``app/uptake/projection.py``). For the
whole batch it loads the facts in a few set-based queries, recomputes each person's
contribution (the pure ``person_deltas``), stores the rows that differ, and keeps new - old
with the session. When the transaction commits, everything it kept is added to
``uptake_buckets`` with one additive upsert, as part of the same transaction: a dashboard never
sees a half-applied batch.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, column, delete, event, func, select, table, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.core.bulk import (
    BuiltOnce,
    columns_of,
    dialect_insert,
    execute_columns,
    in_parameter,
    insert_columns,
    insert_rows_statement,
    is_postgresql,
    unnest_parameters,
    unnest_rows,
)
from app.core.clock import UK
from app.core.settings import get_settings
from app.models import StaffHistory, StaffMember
from app.models.base import BigIntegerId, UTCDateTime
from app.models.uptake import UptakeBucket, UptakePersonDelta, UptakeProjection
from app.uptake.contributions import (
    MEASURES,
    AwardSpan,
    Cell,
    Cells,
    Deltas,
    Period,
    PersonFacts,
    add,
    difference,
    person_deltas,
)

CHUNK = 10_000  # a whole batch in one pass, as the award evaluation makes it
# The columns of the awards table (app/models/award.py, the awards domain) read here, named
# without importing its ORM class so that the two domains stay independent.
AWARDS = table(
    "awards",
    column("staff_id", BigIntegerId),
    column("level", String()),
    column("attained_at", UTCDateTime()),
    column("revoked_at", UTCDateTime()),
)
_CELL_COLUMNS = ("organisation_ods_code", "staff_group_code", "board_member")
# Session.info key: the (day, cell) deltas a transaction has yet to add to the buckets.
_PENDING = "iqt.uptake.pending_deltas"


def bucket_starts(day: date) -> tuple[tuple[str, date], ...]:
    return (("d", day), ("m", day.replace(day=1)), ("y", day.replace(month=1, day=1)))


def award_span(level: str, attained_at: datetime, revoked_at: datetime | None) -> AwardSpan:
    """An award as the uptake counts it: held from the UK day it was attained (its evidence
    completed the level) until the UK day it was revoked."""
    revoked_on = revoked_at.astimezone(UK).date() if revoked_at is not None else None
    return AwardSpan(level, attained_at.astimezone(UK).date(), revoked_on)


async def refresh_uptake(
    session: AsyncSession,
    staff_ids: Iterable[int],
    *,
    known: Mapping[int, PersonFacts] | None = None,
) -> None:
    """Brings the uptake summary up to date for these people (any number; in chunks). The
    facts of those in ``known`` are taken from it rather than read."""
    ids = sorted(set(staff_ids))
    for index in range(0, len(ids), CHUNK):
        await _refresh_chunk(session, ids[index : index + CHUNK], known or {})


async def _refresh_chunk(
    session: AsyncSession, ids: Sequence[int], known: Mapping[int, PersonFacts]
) -> None:
    # No staff row is locked: refreshes take turns on the projection row (the worker by its
    # lease, a rebuild FOR UPDATE), so each applies new - old to what the one before stored,
    # and staff rows are never deleted. A change committed after the facts are read has its
    # own pending row, refreshed by the next step.
    refresh = await read_refresh(session, ids, known)
    refresh.work_out()
    await refresh.store(session)


async def read_refresh(
    session: AsyncSession, ids: Sequence[int], known: Mapping[int, PersonFacts] | None = None
) -> "UptakeRefresh":
    """The first step of refreshing these people (one chunk): their facts (read, except those
    ``known``) and what is stored for them. Then ``work_out`` (no database) and ``store``."""
    if known:
        facts = await load_facts(session, [i for i in ids if i not in known])
        facts.update((i, known[i]) for i in ids if i in known)
    else:
        facts = await load_facts(session, ids)
    old = await _stored_deltas(session, ids)
    return UptakeRefresh(ids, facts, old, get_settings().uptake_programme_start)


class UptakeRefresh:
    """One chunk's refresh, read (``read_refresh``): worked out, then stored."""

    def __init__(
        self,
        ids: Sequence[int],
        facts: Mapping[int, PersonFacts],
        old: Mapping[int, Deltas],
        programme_start: date,
    ) -> None:
        self.ids = ids
        self._facts = facts
        self._old = old
        self._programme_start = programme_start
        # Each person's difference: (person, stored rows to delete, rows to insert, new - old)
        self._changes: list[tuple[int, list[dict[str, Any]], list[PersonRow], Deltas]] = []

    def work_out(self) -> None:
        """Each person's contribution from their facts, and the stored rows that differ from
        it (pure: the session is not used)."""
        facts = self._facts
        self._changes = changes = []
        for staff_id in self.ids:
            person = facts.get(staff_id)
            new = person_deltas(person) if person is not None else {}
            stored = self._old.get(staff_id, {})
            change = difference(new, stored) if stored else new
            if not change:
                continue
            # Only the stored rows that differ are rewritten: a grant adds a row to the
            # person's few, a move or a leaving date two; the others are left alone.
            if stored:
                outdated = [_person_key(staff_id, *key) for key in change if key in stored]
                rows = [_person_row(staff_id, *key, new[key]) for key in change if key in new]
            else:  # someone new to the summary: every row is new
                outdated = []
                rows = [_person_row(staff_id, *key, counts) for key, counts in change.items()]
            changes.append((staff_id, outdated, rows, change))

    async def store(self, session: AsyncSession) -> None:
        """Rewrites the stored rows that differ, and keeps new - old for the buckets."""
        pending = _pending(session)
        outdated: list[dict[str, Any]] = []
        new_rows: list[PersonRow] = []
        # Deltas before the programme start are kept on the day before it (a read never asks
        # for an earlier date), so a summary holds no more than one row per cell for them.
        folded = self._programme_start - timedelta(days=1)
        for _, person_outdated, person_rows, change in self._changes:
            outdated += person_outdated
            new_rows += person_rows
            for (day, cell), counts in change.items():
                key = (day if day > folded else folded, cell)
                held = pending.get(key)
                pending[key] = counts if held is None else add(held, counts)
        await _delete_person_rows(session, outdated)
        if new_rows:
            columns = columns_of(_PERSON_ROW, new_rows)
            await insert_columns(session, UptakePersonDelta.__table__, columns)


# A stored row's key and its columns: a Cell's fields are in _CELL_COLUMNS' order.
_PERSON_KEY = ("staff_id", "day", *_CELL_COLUMNS)
_PERSON_ROW = (*_PERSON_KEY, *MEASURES)


def _person_key(staff_id: int, day: date, cell: Cell) -> dict[str, Any]:
    return dict(zip(_PERSON_KEY, (staff_id, day, *cell), strict=True))


async def _delete_person_rows(session: AsyncSession, keys: Sequence[dict[str, Any]]) -> None:
    """Deletes the stored rows with these keys: one statement (an executemany on SQLite)."""
    if not keys:
        return
    table: Any = UptakePersonDelta.__table__
    columns = [table.c[name] for name in _PERSON_KEY]
    if is_postgresql(session):
        shape, parameters = unnest_parameters(table, _PERSON_KEY, keys)
        statement = delete(table).where(
            tuple_(*columns).in_(unnest_rows(table, _PERSON_KEY, shape))
        )
        await session.execute(statement, parameters)
    else:
        statement = delete(table).where(*(c == bindparam(c.name) for c in columns))
        await session.execute(statement, list(keys))


# A stored row: the values of _PERSON_ROW's columns, in order.
PersonRow = tuple[int, date, str, str, bool, int, int, int, int]


def _person_row(staff_id: int, day: date, cell: Cell, counts: tuple[int, ...]) -> PersonRow:
    """A stored row, as a tuple: the rows of a batch go to ``insert_columns`` column by
    column."""
    headcount, bronze, silver, gold = counts
    return (staff_id, day, *cell, headcount, bronze, silver, gold)


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
    starts: dict[date, tuple[tuple[str, date], ...]] = {}  # the days of a batch repeat
    for (day, cell), counts in deltas.items():
        grains = starts.get(day)
        if grains is None:
            grains = starts[day] = bucket_starts(day)
        for grain, start in grains:
            sums = buckets.get((grain, start, cell))
            if sums is None:
                buckets[(grain, start, cell)] = list(counts)
            else:
                sums[0] += counts[0]
                sums[1] += counts[1]
                sums[2] += counts[2]
                sums[3] += counts[3]
    rows = [
        {
            "grain": grain,
            "period_start": start,
            "organisation_ods_code": cell.organisation,
            "staff_group_code": cell.staff_group,
            "board_member": cell.board_member,
            "headcount": sums[0],
            "bronze": sums[1],
            "silver": sums[2],
            "gold": sums[3],
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
    staff = (await execute_columns(session, _STAFF(session), parameters)).all()
    periods = await _periods(session, ids)
    awards: dict[int, list[AwardSpan]] = {}
    for staff_id, level, attained_at, revoked_at in await execute_columns(
        session, _AWARD_SPANS(session), parameters
    ):
        awards.setdefault(staff_id, []).append(award_span(level, attained_at, revoked_at))
    return {
        staff_id: PersonFacts(
            staff_id, start, end, Cell(org, group, board), periods.get(staff_id, []),
            awards.get(staff_id, []),
        )
        for staff_id, start, end, org, group, board in staff
    }  # fmt: skip


async def _periods(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[Period]]:
    """The dated history of these people."""
    periods: dict[int, list[Period]] = {}
    if not ids:
        return periods
    cells = Cells()
    history = await execute_columns(session, _HISTORY(session), {"ids": list(ids)})
    for staff_id, valid_from, valid_to, org, group, board in history:
        periods.setdefault(staff_id, []).append(
            Period(valid_from, valid_to, cells.of(org, group, board))
        )
    return periods


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
        AWARDS.c.staff_id, AWARDS.c.level, AWARDS.c.attained_at, AWARDS.c.revoked_at
    ).where(in_parameter(dialect, AWARDS.c.staff_id, "ids"))
)


async def _stored_deltas(session: AsyncSession, ids: Sequence[int]) -> dict[int, Deltas]:
    if not ids:
        return {}
    rows = await execute_columns(session, _STORED(session), {"ids": list(ids)})
    stored: dict[int, Deltas] = {}
    cells = Cells()
    for staff_id, day, org, group, board, headcount, bronze, silver, gold in rows:
        deltas = stored.get(staff_id)
        if deltas is None:
            deltas = stored[staff_id] = {}
        deltas[(day, cells.of(org, group, board))] = (headcount, bronze, silver, gold)
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
    build it for data loaded around the service); returns the number of people. Holds the
    projection row (``app/uptake/projection_jobs.py``) so that the worker waits meanwhile."""
    await session.execute(select(UptakeProjection.id).with_for_update())
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
