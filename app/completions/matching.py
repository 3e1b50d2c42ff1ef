"""Who a completion is about: by employee number, else by work e-mail (case-insensitive) or
the xAPI ``mbox_sha1sum`` — when it is recorded, and again when HR later sends the person.

Every step is one statement for the whole set of rows or people, never one per record.

An e-mail belongs to the staff who have it and had not left by the completion's day (a leaver's
address may have been given on). A completion held back because several did is looked at again
whenever one of them changes their e-mail or is end-dated.

On PostgreSQL a completion recorded for someone HR is sending at that very moment could
miss them both ways (neither transaction sees the other's uncommitted row). Both sides take
an advisory lock on the identifiers involved — the recording side only when it found no one —
so one always waits for the other and then sees it.
"""

import hashlib
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Date, and_, cast, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import evaluation
from app.completions.repository import MATCHED, UNMATCHED, is_postgresql
from app.core.bulk import BuiltOnce, column_in, execute_columns, in_parameter
from app.core.clock import utcnow
from app.core.metrics import COMPLETIONS_MATCHED, count_on_commit
from app.events.service import record_events
from app.models import Completion, Course, StaffMember
from app.staff.records import mbox_sha1sum

NOT_FOUND = "No staff member has this employee number or work e-mail yet."
AMBIGUOUS_EMAIL = "More than one staff member has this work e-mail; send the employee number."
AMBIGUOUS_SHA1 = "More than one staff member has this mbox_sha1sum; send the employee number."

# Advisory locks (PostgreSQL): identifiers hash into a fixed number of buckets, so a staff
# batch of 10,000 people takes at most this many locks.
_IDENTITY_LOCK_CLASS = 0x49515401
_IDENTITY_BUCKETS = 16
# From this many identifiers every bucket is as good as certain to be hit (all but once in
# 20,000 batches), so all are locked without hashing them (a staff batch of 5,000 people has
# 15,000 identifiers).
_ALL_BUCKETS_FROM = 256


class Identified(Protocol):
    """A person the staff domain has just created or re-identified."""

    @property
    def staff_id(self) -> int: ...
    @property
    def employee_number(self) -> str: ...
    @property
    def work_email_key(self) -> str | None: ...
    @property
    def previous_work_email_key(self) -> str | None: ...


@dataclass(frozen=True)
class Person:
    staff_id: int
    employee_number: str
    organisation: str


async def identify(session: AsyncSession, rows: Sequence[MutableMapping[str, Any]]) -> None:
    """Fills ``staff_id``, ``match_status``, ``match_reason`` and ``matched_at`` of each row
    (and ``organisation`` / ``matched_employee_number``, for the answer and the events)."""
    decisions = await _find(session, rows)
    if is_postgresql(session) and any(person is None for person, _ in decisions):
        unmatched = (r for r, (person, _) in zip(rows, decisions, strict=True) if person is None)
        await _lock_identities(session, _identifiers(unmatched), shared=False)
        decisions = await _find(session, rows)
    now = utcnow()
    for row, (person, reason) in zip(rows, decisions, strict=True):
        row["staff_id"] = person.staff_id if person else None
        row["match_status"] = MATCHED if person else UNMATCHED
        row["match_reason"] = None if person else reason
        row["matched_at"] = now if person else None
        row["organisation"] = person.organisation if person else None
        row["matched_employee_number"] = person.employee_number if person else None


async def _find(
    session: AsyncSession, rows: Sequence[MutableMapping[str, Any]]
) -> list[tuple[Person | None, str]]:
    numbers = {r["employee_number"] for r in rows if r["employee_number"]}
    by_number: dict[str, Person] = {}
    if numbers:
        found = await execute_columns(session, _BY_NUMBER(session), {"numbers": sorted(numbers)})
        by_number = {number: Person(i, number, org) for i, number, org in found}
    rest = [r for r in rows if r["employee_number"] not in by_number]
    keys = {r["work_email_key"] for r in rest if r["work_email_key"]}
    by_key = await _owners(session, StaffMember.work_email_key, keys) if keys else {}
    sha1s = {r["email_sha1"] for r in rest if r["email_sha1"] and not r["work_email_key"]}
    by_sha1 = await _owners(session, StaffMember.work_email_sha1, sha1s) if sha1s else {}

    decisions: list[tuple[Person | None, str]] = []
    for row in rows:
        day = row["completed_at"].astimezone(UTC).date()
        if row["employee_number"] in by_number:
            decisions.append((by_number[row["employee_number"]], ""))
        elif _owned_on(by_key.get(row["work_email_key"]), day):
            decisions.append(_unique(by_key[row["work_email_key"]], day, AMBIGUOUS_EMAIL))
        elif not row["work_email_key"] and _owned_on(by_sha1.get(row["email_sha1"]), day):
            decisions.append(_unique(by_sha1[row["email_sha1"]], day, AMBIGUOUS_SHA1))
        else:
            decisions.append((None, NOT_FOUND))
    return decisions


_BY_NUMBER = BuiltOnce(
    lambda dialect: select(
        StaffMember.id, StaffMember.employee_number, StaffMember.organisation_ods_code
    ).where(in_parameter(dialect, StaffMember.employee_number, "numbers"))
)


# Who has a work e-mail, with the day they left (None: still employed).
Owners = list[tuple[Person, date | None]]


def _employed_on(owners: Owners, day: date) -> list[Person]:
    """The owners of an e-mail who had not left by the completion's day: someone who left
    before it cannot have completed it with that e-mail (it may have been given on)."""
    return [person for person, left in owners if left is None or left >= day]


def _owned_on(owners: Owners | None, day: date) -> bool:
    return bool(owners) and bool(_employed_on(owners or [], day))


def _unique(owners: Owners, day: date, ambiguous: str) -> tuple[Person | None, str]:
    employed = _employed_on(owners, day)
    return (employed[0], "") if len(employed) == 1 else (None, ambiguous)


async def _owners(session: AsyncSession, key: Any, values: set[str]) -> dict[str, Owners]:
    """Key value → the staff who have it, with their end dates."""
    query = select(
        key,
        StaffMember.id,
        StaffMember.employee_number,
        StaffMember.organisation_ods_code,
        StaffMember.end_date,
    ).where(column_in(session, key, sorted(values)))
    found: dict[str, Owners] = {}
    for value, i, n, org, left in await execute_columns(session, query):
        found.setdefault(value, []).append((Person(i, n, org), left))
    return found


def _identifiers(rows: Iterable[MutableMapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        found.update(v for v in (row["employee_number"], row["work_email_key"]) if v)
        if row["email_sha1"]:
            found.add(row["email_sha1"])
        if row["work_email_key"]:
            found.add(mbox_sha1sum(row["work_email_key"]))
    return found


async def _lock_identities(session: AsyncSession, identifiers: set[str], *, shared: bool) -> None:
    """Takes the advisory locks of these identifiers' buckets, in order, until commit: shared
    for HR's side (staff batches never wait for one another), exclusive for the side
    recording a completion that found nobody."""
    if len(identifiers) >= _ALL_BUCKETS_FROM:
        buckets = list(range(_IDENTITY_BUCKETS))
    else:
        buckets = sorted(
            {
                int.from_bytes(hashlib.blake2b(v.encode(), digest_size=4).digest(), "big")
                % _IDENTITY_BUCKETS
                for v in identifiers
            }
        )
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    if buckets:
        await session.execute(
            text(
                f"SELECT {function}(CAST(:lock_class AS integer), bucket) "  # noqa: S608
                "FROM unnest(CAST(:buckets AS integer[])) AS bucket ORDER BY bucket"
            ).bindparams(lock_class=_IDENTITY_LOCK_CLASS, buckets=buckets)
        )


async def match_unmatched_completions(
    session: AsyncSession, people: Sequence[Identified], caller: Caller | None
) -> None:
    """Matches the unmatched completions of people just created or re-identified (and those
    sent with an e-mail one of them has just left), writes a completionMatched event for each
    and re-evaluates the awards of the people matched. When none of them has an
    unmatched completion (the usual case) this is two statements for the whole list."""
    if not people:
        return
    numbers = sorted({p.employee_number for p in people})
    # The previous e-mail too: a completion held back because two people shared it is matched
    # once one of them has moved to another address.
    keys = sorted({k for p in people for k in (p.work_email_key, p.previous_work_email_key) if k})
    sha1s = sorted({mbox_sha1sum(k) for k in keys})
    if is_postgresql(session):
        await _lock_identities(session, {*numbers, *keys, *sha1s}, shared=True)
    candidates = await _candidates(session, numbers, keys, sha1s)
    if not candidates:
        return
    now = utcnow()
    matched = await _match_by_employee_number(session, candidates, now)
    matched += await _match_by_key(session, Completion.work_email_key, candidates, now)
    matched += await _match_by_key(session, Completion.email_sha1, candidates, now)
    if matched:
        await _announce_matches(session, matched, caller)
        count_on_commit(session, COMPLETIONS_MATCHED, len(matched))


async def _candidates(
    session: AsyncSession, numbers: Sequence[str], keys: Sequence[str], sha1s: Sequence[str]
) -> list[int]:
    """The unmatched completions sent with any of these identifiers (one statement, on the
    partial indexes of unmatched completions)."""
    sent_with = [column_in(session, Completion.employee_number, numbers)]
    if keys:
        sent_with.append(column_in(session, Completion.work_email_key, keys))
        sent_with.append(column_in(session, Completion.email_sha1, sha1s))
    result = await session.scalars(
        select(Completion.id).where(Completion.match_status == UNMATCHED, or_(*sent_with))
    )
    return list(result)


def _still_unmatched() -> Any:
    return and_(Completion.match_status == UNMATCHED, Completion.retracted_at.is_(None))


def _matched_values(staff_id: Any, now: datetime) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "match_status": MATCHED,
        "match_reason": None,
        "matched_at": now,
        "updated_at": now,
    }


async def _match_by_employee_number(
    session: AsyncSession, candidates: Sequence[int], now: datetime
) -> list[int]:
    owner = (
        select(StaffMember.id)
        .where(StaffMember.employee_number == Completion.employee_number)
        .scalar_subquery()
    )
    known = exists().where(StaffMember.employee_number == Completion.employee_number)
    result = await session.execute(
        update(Completion)
        .where(_still_unmatched(), column_in(session, Completion.id, candidates), known)
        .values(_matched_values(owner, now))
        .returning(Completion.id)
    )
    return list(result.scalars())


async def _match_by_key(
    session: AsyncSession, column: Any, candidates: Sequence[int], now: datetime
) -> list[int]:
    """Matches by work e-mail key (or mbox_sha1sum) when exactly one person has it; marks the
    ambiguous ones with the reason. Runs after the employee number step, so a completion sent
    with the number of someone known is already matched to them."""
    staff_key: Any
    if column is Completion.work_email_key:
        staff_key, ambiguous = StaffMember.work_email_key, AMBIGUOUS_EMAIL
        sent_with = Completion.work_email_key.is_not(None)
    else:
        staff_key, ambiguous = StaffMember.work_email_sha1, AMBIGUOUS_SHA1
        sent_with = and_(Completion.email_sha1.is_not(None), Completion.work_email_key.is_(None))
    # As when it was recorded: only those who had not left by the completion's day count.
    employed = and_(
        staff_key == column,
        or_(StaffMember.end_date.is_(None), StaffMember.end_date >= _day_of(session)),
    )
    owners = select(func.count(StaffMember.id)).where(employed).scalar_subquery()
    owner = select(func.min(StaffMember.id)).where(employed).scalar_subquery()
    chosen = and_(_still_unmatched(), column_in(session, Completion.id, candidates), sent_with)
    result = await session.execute(
        update(Completion)
        .where(chosen, owners == 1)
        .values(_matched_values(owner, now))
        .returning(Completion.id)
    )
    matched = list(result.scalars())
    await session.execute(
        update(Completion).where(chosen, owners > 1).values(match_reason=ambiguous, updated_at=now)
    )
    return matched


def _day_of(session: AsyncSession) -> Any:
    """The completion's day (UTC) in SQL, to compare with an end date."""
    if is_postgresql(session):
        return cast(func.timezone("UTC", Completion.completed_at), Date)
    return func.date(Completion.completed_at)


async def _announce_matches(
    session: AsyncSession, completion_ids: Sequence[int], caller: Caller | None
) -> None:
    rows = await session.execute(
        select(
            Completion.id,
            Completion.staff_id,
            StaffMember.employee_number,
            StaffMember.organisation_ods_code,
            Course.code,
        )
        .join(StaffMember, StaffMember.id == Completion.staff_id)
        .join(Course, Course.id == Completion.course_id)
        .where(column_in(session, Completion.id, completion_ids))
        .order_by(Completion.id)
    )
    matched = rows.all()
    await record_events(
        session,
        [
            {
                "type": "completionMatched",
                "resource_type": "completion",
                "resource_id": str(completion_id),
                "organisation_ods_code": organisation,
                "data": {"employeeNumber": number, "courseCode": course_code},
            }
            for completion_id, _, number, organisation, course_code in matched
        ],
        caller=caller,
    )
    staff_ids = sorted({staff_id for _, staff_id, _, _, _ in matched if staff_id is not None})
    await evaluation.evaluate_awards(session, staff_ids, caller)
