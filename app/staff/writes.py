"""The set-based write path for staff: one statement per step for a whole batch, with the
dated history and the events (feed, identities for completion matching, placements for the
uptake figures), in the same transaction. Single PUTs and PATCHes use it too, as a batch of
one."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.metrics import STAFF_RECORDS_WRITTEN, count_on_commit
from app.core.problems import Conflict
from app.events.bus import publish
from app.events.domain import DomainEvent
from app.personal_data.corrections import Correction, corrected_fields, record_corrections
from app.staff import repository
from app.staff.events import (
    Placement,
    StaffCreated,
    StaffEndDated,
    StaffIdentified,
    StaffPlacementChanged,
    StaffUpdated,
)
from app.staff.fields import HISTORY_COLUMNS, HR_COLUMNS, WIRE_NAMES, StaffRow
from app.staff.records import References, Rejection
from app.staff.repository import StaffPeriod

# A person's placement: where they are counted, and from when until when. A change of any of
# them is announced (``StaffPlacementChanged``) for the uptake figures.
PLACEMENT_FIELDS = (*HISTORY_COLUMNS, "start_date", "end_date")

# A restricted client's answer for an employee number held by a record it cannot change: it
# never says where that record is, nor whose it is (README: "Organisation restriction").
NUMBER_UNAVAILABLE = "Cannot be used by this client."


@dataclass
class Applied:
    """What writing a set of staff rows did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    end_dated: int = 0
    rejections: list[Rejection] = field(default_factory=list)


async def load_references(session: AsyncSession) -> References:
    return References(
        organisations=await repository.organisation_codes(session),
        staff_groups=await repository.staff_group_lookup(session),
    )


def _changed_fields(existing: Row[Any], row: StaffRow) -> list[str]:
    """The staff fields that differ (``existing`` holds HR_COLUMNS first, in order)."""
    before = tuple(existing)[: len(HR_COLUMNS)]
    after = row.hr_values()
    if before == after:
        return []
    changed = []
    for name, old, new in zip(HR_COLUMNS, before, after, strict=True):
        if name == "work_email" and old and new and old.casefold() == new.casefold():
            continue
        if old != new:
            changed.append(name)
    return changed


async def apply_staff_rows(
    session: AsyncSession,
    caller: Caller | None,
    rows: Sequence[StaffRow],
    row_numbers: Sequence[int],
    *,
    effective_on: date,
    correction_reason: str | None = None,
) -> Applied:
    """Creates and updates staff with one statement per step, history and events included.
    Changes of names or e-mail go into the rectification trail with ``correction_reason``."""
    applied = Applied()
    existing = await repository.existing_by_employee_number(
        session, [r.employee_number for r in rows]
    )
    to_write: list[StaffRow] = []
    versions: dict[str, int] = {}  # of the records to update, as read
    changes: dict[str, list[str]] = {}
    for row, row_number in zip(rows, row_numbers, strict=True):
        before = existing.get(row.employee_number)
        if before is None:
            to_write.append(row)
            continue
        if caller is not None and not caller.may_access(before.organisation_ods_code):
            applied.rejections.append(
                Rejection(
                    row_number,
                    row.employee_number,
                    [("employeeNumber", NUMBER_UNAVAILABLE)],
                )
            )
            continue
        changed = _changed_fields(before, row)
        if not changed:
            applied.unchanged += 1
            continue
        to_write.append(row)
        versions[row.employee_number] = before.version
        changes[row.employee_number] = changed

    ids = await repository.upsert_staff(session, to_write, versions)
    history: list[StaffPeriod] = []
    moved: list[int] = []
    events: list[DomainEvent] = []
    identified: list[StaffIdentified] = []
    corrections: list[Correction] = []
    placed: list[StaffPlacementChanged] = []
    for row in to_write:
        number = row.employee_number
        staff_id = ids[number]
        if number not in changes:
            applied.created.append(number)
            history.append(StaffPeriod(staff_id, row.start_date, None, row))
            events.append(StaffCreated(row.organisation_ods_code, number))
            identified.append(StaffIdentified(staff_id, number, row.work_email_key))
            placed.append(StaffPlacementChanged(staff_id, _placement(row)))
            if row.end_date is not None:
                applied.end_dated += 1
            continue
        changed = changes[number]
        applied.updated.append(number)
        if corrected := corrected_fields(existing[number], row):
            corrections.append(Correction(staff_id, corrected))
        if any(f in changed for f in HISTORY_COLUMNS):
            moved.append(staff_id)
        if any(f in changed for f in PLACEMENT_FIELDS):
            placed.append(StaffPlacementChanged(staff_id))
        if "work_email" in changed:
            previous = existing[number].work_email
            identified.append(
                StaffIdentified(
                    staff_id, number, row.work_email_key, previous and previous.casefold()
                )
            )
        elif "end_date" in changed:  # a leaver no longer shares an e-mail from their end date
            identified.append(StaffIdentified(staff_id, number, row.work_email_key))
        # A new end date is announced as ``staffEndDated``; a cleared one (a leaver taken
        # back) as a change like any other.
        other = [WIRE_NAMES[f] for f in changed if f != "end_date" or row.end_date is None]
        if other:
            events.append(StaffUpdated(row.organisation_ods_code, number, tuple(other)))
        if "end_date" in changed and row.end_date is not None:
            applied.end_dated += 1
            events.append(StaffEndDated(row.organisation_ods_code, number, row.end_date))
    history.extend(await _reopen_history(session, moved, to_write, ids, effective_on))
    await repository.insert_history(session, history)
    await publish(session, [*events, *placed], caller=caller)
    await record_corrections(session, caller, corrections, correction_reason)
    # Completions held for these people are matched by their handler, as the service's own.
    await publish(session, identified, caller=None)
    count_on_commit(session, STAFF_RECORDS_WRITTEN.labels("created"), len(applied.created))
    count_on_commit(session, STAFF_RECORDS_WRITTEN.labels("updated"), len(applied.updated))
    return applied


def _placement(row: StaffRow) -> Placement:
    """Where a new record places the person (their one period, as ``insert_history`` writes
    it)."""
    return Placement(
        row.start_date, row.end_date, row.organisation_ods_code, row.staff_group_code,
        row.board_member,
    )  # fmt: skip


async def _reopen_history(
    session: AsyncSession,
    moved: Sequence[int],
    rows: Sequence[StaffRow],
    ids: dict[str, int],
    effective_on: date,
) -> list[StaffPeriod]:
    """Closes the open history rows of people who moved; returns the rows that follow them."""
    if not moved:
        return []
    by_id = {ids[r.employee_number]: r for r in rows}
    current = await repository.current_history(session, moved)
    to_close: list[int] = []
    to_replace: list[int] = []
    following: list[StaffPeriod] = []
    for staff_id in moved:
        history_id, valid_from = current.get(staff_id, (None, effective_on))
        starts = max(valid_from, effective_on)
        if history_id is not None:
            (to_close if valid_from < effective_on else to_replace).append(history_id)
        following.append(StaffPeriod(staff_id, starts, None, by_id[staff_id]))
    await repository.close_history(session, to_close, effective_on)
    await repository.delete_history(session, to_replace)
    return following


async def end_date_absent_staff(
    session: AsyncSession,
    caller: Caller,
    organisation: str,
    present: set[str],
    *,
    allow_mass_leavers: bool,
    max_share: float,
) -> list[tuple[int, str, date]]:
    """Finds the organisation's active staff missing from a full snapshot; refuses (409,
    nothing changed) when they are more than the allowed share, unless told otherwise."""
    on = today()
    active = await repository.active_in_organisation(session, organisation, on)
    absent = [r for r in active if r.employee_number not in present]
    if absent and not allow_mass_leavers and len(absent) > max_share * len(active):
        raise Conflict(
            f"This snapshot would end-date {len(absent)} of {len(active)} active staff of "
            f"{organisation}, more than {max_share:.0%}: nothing was changed. If this is right, "
            "send it again with allowMassLeavers=true.",
            extensions={"wouldEndDate": len(absent), "activeStaff": len(active)},
        )
    return [(r.id, r.employee_number, max(on - timedelta(days=1), r.start_date)) for r in absent]


async def write_leavers(
    session: AsyncSession,
    caller: Caller,
    organisation: str,
    leavers: Sequence[tuple[int, str, date]],
) -> None:
    by_end: dict[date, list[int]] = {}
    for staff_id, _, end in leavers:
        by_end.setdefault(end, []).append(staff_id)
    identities: list[StaffIdentified] = []
    for end, staff_ids in by_end.items():
        ended = await repository.end_date_staff(session, staff_ids, end)
        identities.extend(StaffIdentified(*person) for person in ended)
    await publish(
        session,
        [
            *(
                StaffEndDated(organisation, number, end, reason="absentFromFullSnapshot")
                for _, number, end in leavers
            ),
            *(StaffPlacementChanged(staff_id) for staff_id, _, _ in leavers),
        ],
        caller=caller,
    )
    # Completions held back because a leaver shared their e-mail may now have one owner.
    await publish(session, identities, caller=None)
