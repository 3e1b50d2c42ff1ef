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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, case, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions.events import CompletionMatched
from app.completions.repository import MATCHED, UNMATCHED, is_postgresql
from app.completions.rows import CompletionRow, Identification
from app.core.bulk import column_in
from app.core.clock import utcnow
from app.core.metrics import COMPLETIONS_MATCHED, count_on_commit
from app.events.bus import publish
from app.models import Completion, Course, StaffMember
from app.staff.records import mbox_sha1sum
from app.staff.resolution import (
    NOT_FOUND,
    PersonReference,
    Resolution,
    Within,
    day_of,
    resolve_people,
    within_of,
    within_text,
)

# Advisory locks (PostgreSQL): identifiers hash into a fixed number of buckets, so a staff
# batch of 10,000 people takes at most this many locks.
_IDENTITY_LOCK_CLASS = 0x49515401
_IDENTITY_BUCKETS = 16
# From this many identifiers every bucket is as good as certain to be hit (all but once in
# 20,000 batches), so all are locked without hashing them (a staff batch of 5,000 people has
# 15,000 identifiers).
_ALL_BUCKETS_FROM = 256
# Completions matched later are marked with one statement per this many.
_MATCHES_PER_STATEMENT = 1000


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


async def identify(
    session: AsyncSession, caller: Caller, rows: Sequence[CompletionRow]
) -> list[Identification]:
    """Who each row is about, among the staff of the sender's organisations only (in the
    rows' order); ``sender_organisations`` keeps those, so that a completion left unmatched
    is matched later within them too."""
    within = caller.organisations
    decisions = await _find(session, within, rows)
    if is_postgresql(session) and any(person is None for person, _ in decisions):
        unmatched = (r for r, (person, _) in zip(rows, decisions, strict=True) if person is None)
        await _lock_identities(session, _identifiers(unmatched), shared=False)
        decisions = await _find(session, within, rows)
    now = utcnow()
    sender_organisations = within_text(within)
    unmatched_as = Identification(sender_organisations, None, UNMATCHED, None, None, None, None)
    return [
        Identification(
            sender_organisations,
            person.staff_id,
            MATCHED,
            None,
            now,
            person.organisation,
            person.employee_number,
        )
        if person
        else unmatched_as._replace(match_reason=reason)
        for person, reason in decisions
    ]


async def _find(
    session: AsyncSession, within: Within, rows: Sequence[CompletionRow]
) -> list[Resolution]:
    return await resolve_people(
        session,
        within,
        [
            PersonReference(
                r.employee_number, r.work_email_key, r.email_sha1, day_of(r.completed_at)
            )
            for r in rows
        ],
    )


def _identifiers(rows: Iterable[CompletionRow]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        found.update(v for v in (row.employee_number, row.work_email_key) if v)
        if row.email_sha1:
            found.add(row.email_sha1)
        if row.work_email_key:
            found.add(mbox_sha1sum(row.work_email_key))
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
    sent with an e-mail one of them has just left), each among the staff of the organisations
    its sender was restricted to (``resolve_people``, as when it was recorded); publishes a
    completionMatched event for each (awards re-evaluates the people matched). When
    none of them has an unmatched completion (the usual case) this is two statements for the
    whole list."""
    if not people:
        return
    # In no particular order: the statements do not depend on it, and sorting a batch's
    # 15,000 identifiers cost more than collecting them.
    numbers = list({p.employee_number for p in people})
    # The previous e-mail too: a completion held back because two people shared it is matched
    # once one of them has moved to another address.
    keys = list({k for p in people for k in (p.work_email_key, p.previous_work_email_key) if k})
    sha1s = [mbox_sha1sum(k) for k in keys]
    if is_postgresql(session):
        await _lock_identities(session, {*numbers, *keys, *sha1s}, shared=True)
    candidates = await _candidates(session, numbers, keys, sha1s)
    if not candidates:
        return
    owners, reasons = await _resolve_candidates(session, candidates)
    now = utcnow()
    matched = await _store_matches(session, owners, now)
    await _store_reasons(session, reasons, now)
    if matched:
        await _announce_matches(session, matched, caller)
        count_on_commit(session, COMPLETIONS_MATCHED, len(matched))


async def _candidates(
    session: AsyncSession, numbers: Sequence[str], keys: Sequence[str], sha1s: Sequence[str]
) -> list[Any]:
    """The unmatched completions sent with any of these identifiers, with what they were sent
    with (one statement, on the partial indexes of unmatched completions)."""
    sent_with = [column_in(session, Completion.employee_number, numbers)]
    if keys:
        sent_with.append(column_in(session, Completion.work_email_key, keys))
        sent_with.append(column_in(session, Completion.email_sha1, sha1s))
    result = await session.execute(
        select(
            Completion.id,
            Completion.employee_number,
            Completion.work_email_key,
            Completion.email_sha1,
            Completion.sender_organisations,
            Completion.match_reason,
            Completion.completed_at,
        )
        .where(Completion.match_status == UNMATCHED, or_(*sent_with))
        .order_by(Completion.id)
    )
    return list(result.all())


async def _resolve_candidates(
    session: AsyncSession, candidates: Sequence[Any]
) -> tuple[dict[int, int], dict[int, str]]:
    """Staff id by completion id for the candidates that now name one person among the staff
    of their sender's organisations, and the new reason of those now ambiguous there."""
    by_sender: dict[str | None, list[Any]] = defaultdict(list)
    for candidate in candidates:
        by_sender[candidate.sender_organisations].append(candidate)
    owners: dict[int, int] = {}
    reasons: dict[int, str] = {}
    for sender_organisations, group in by_sender.items():
        references = [
            PersonReference(
                c.employee_number, c.work_email_key, c.email_sha1, day_of(c.completed_at)
            )
            for c in group
        ]
        resolved = await resolve_people(session, within_of(sender_organisations), references)
        for candidate, (person, reason) in zip(group, resolved, strict=True):
            if person is not None:
                owners[candidate.id] = person.staff_id
            elif reason != NOT_FOUND and reason != candidate.match_reason:
                reasons[candidate.id] = reason
    return owners, reasons


def _still_unmatched() -> Any:
    return and_(Completion.match_status == UNMATCHED, Completion.retracted_at.is_(None))


async def _store_matches(session: AsyncSession, owners: dict[int, int], now: datetime) -> list[int]:
    """Marks these completions matched to their staff ids (one statement per chunk) unless
    retracted or matched meanwhile; returns the ids it marked."""
    matched: list[int] = []
    ids = sorted(owners)
    for start in range(0, len(ids), _MATCHES_PER_STATEMENT):
        chunk = ids[start : start + _MATCHES_PER_STATEMENT]
        result = await session.execute(
            update(Completion)
            .where(_still_unmatched(), column_in(session, Completion.id, chunk))
            .values(
                staff_id=case({i: owners[i] for i in chunk}, value=Completion.id),
                match_status=MATCHED,
                match_reason=None,
                matched_at=now,
                updated_at=now,
            )
            .returning(Completion.id)
        )
        matched.extend(result.scalars())
    return sorted(matched)


async def _store_reasons(session: AsyncSession, reasons: dict[int, str], now: datetime) -> None:
    by_reason: dict[str, list[int]] = defaultdict(list)
    for completion_id, reason in reasons.items():
        by_reason[reason].append(completion_id)
    for reason, ids in sorted(by_reason.items()):
        await session.execute(
            update(Completion)
            .where(_still_unmatched(), column_in(session, Completion.id, sorted(ids)))
            .values(match_reason=reason, updated_at=now)
        )


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
    await publish(
        session,
        [
            CompletionMatched(completion_id, organisation, staff_id, number, course_code)
            for completion_id, staff_id, number, organisation, course_code in rows
        ],
        caller=caller,
    )
