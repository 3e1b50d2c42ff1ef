"""Staff records: single upserts and patches, batches and full snapshots, reads."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Conflict, Forbidden, NotFound, ValidationFailed
from app.events.service import record_events
from app.models import StaffMember
from app.staff import repository
from app.staff.identity import StaffIdentity, staff_identified
from app.staff.records import References, Rejection, to_row
from app.staff.repository import HISTORY_FIELDS, STAFF_FIELDS
from app.staff.schemas import StaffPut
from app.uptake.summary import refresh_uptake

_WIRE_NAMES = {
    "given_name": "givenName",
    "family_name": "familyName",
    "work_email": "workEmail",
    "organisation_ods_code": "organisation",
    "staff_group_code": "staffGroup",
    "job_title": "jobTitle",
    "board_member": "boardMember",
    "start_date": "startDate",
    "end_date": "endDate",
}


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


def _changed_fields(existing: Any, row: dict[str, Any]) -> list[str]:
    before = existing._mapping
    if all(before[name] == row[name] for name in STAFF_FIELDS):
        return []
    changed = []
    for name in STAFF_FIELDS:
        old, new = before[name], row[name]
        if name == "work_email" and old and new and old.casefold() == new.casefold():
            continue
        if old != new:
            changed.append(name)
    return changed


async def apply_staff_rows(
    session: AsyncSession,
    caller: Caller | None,
    rows: Sequence[dict[str, Any]],
    row_numbers: Sequence[int],
    *,
    effective_on: date,
) -> Applied:
    """Creates and updates staff with one statement per step, history and events included."""
    applied = Applied()
    existing = await repository.existing_by_employee_number(
        session, [r["employee_number"] for r in rows]
    )
    to_write: list[dict[str, Any]] = []
    changes: dict[str, list[str]] = {}
    for row, number in zip(rows, row_numbers, strict=True):
        before = existing.get(row["employee_number"])
        if before is None:
            to_write.append(row)
            continue
        if caller is not None and not caller.may_access(before.organisation_ods_code):
            applied.rejections.append(
                Rejection(
                    number,
                    row["employee_number"],
                    [("employeeNumber", "Belongs to an organisation this client cannot change.")],
                )
            )
            continue
        changed = _changed_fields(before, row)
        if not changed:
            applied.unchanged += 1
            continue
        to_write.append({**row, "version": before.version})
        changes[row["employee_number"]] = changed

    ids = await repository.upsert_staff(session, to_write)
    history: list[dict[str, Any]] = []
    moved: list[int] = []
    events: list[dict[str, Any]] = []
    identified: list[StaffIdentity] = []
    for row in to_write:
        number = row["employee_number"]
        staff_id = ids[number]
        if number not in changes:
            applied.created.append(number)
            history.append(_history_row(staff_id, row, row["start_date"]))
            events.append(_event("staffCreated", row, {"employeeNumber": number}))
            identified.append(StaffIdentity(staff_id, number, row["work_email_key"]))
            if row["end_date"] is not None:
                applied.end_dated += 1
            continue
        changed = changes[number]
        applied.updated.append(number)
        if any(f in changed for f in HISTORY_FIELDS):
            moved.append(staff_id)
        if "work_email" in changed:
            identified.append(StaffIdentity(staff_id, number, row["work_email_key"]))
        other = [_WIRE_NAMES[f] for f in changed if f != "end_date"]
        if other:
            events.append(_event("staffUpdated", row, {"changed": other}))
        if "end_date" in changed and row["end_date"] is not None:
            applied.end_dated += 1
            events.append(_event("staffEndDated", row, {"endDate": row["end_date"].isoformat()}))
    history.extend(await _reopen_history(session, moved, to_write, ids, effective_on))
    await repository.insert_history(session, history)
    await refresh_uptake(session, ids.values())
    await record_events(session, events, caller=caller)
    await staff_identified(session, identified)
    return applied


async def _reopen_history(
    session: AsyncSession,
    moved: Sequence[int],
    rows: Sequence[dict[str, Any]],
    ids: dict[str, int],
    effective_on: date,
) -> list[dict[str, Any]]:
    """Closes the open history rows of people who moved; returns the rows that follow them."""
    if not moved:
        return []
    by_id = {ids[r["employee_number"]]: r for r in rows}
    current = await repository.current_history(session, moved)
    to_close: list[int] = []
    to_replace: list[int] = []
    following: list[dict[str, Any]] = []
    for staff_id in moved:
        history_id, valid_from = current.get(staff_id, (None, effective_on))
        starts = max(valid_from, effective_on)
        if history_id is not None:
            (to_close if valid_from < effective_on else to_replace).append(history_id)
        following.append(_history_row(staff_id, by_id[staff_id], starts))
    await repository.close_history(session, to_close, effective_on)
    await repository.delete_history(session, to_replace)
    return following


def _history_row(staff_id: int, row: dict[str, Any], valid_from: date) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "valid_from": valid_from,
        "valid_to": None,
        **{f: row[f] for f in HISTORY_FIELDS},
    }


def _event(event_type: str, row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": event_type,
        "resource_type": "staff",
        "resource_id": row["employee_number"],
        "organisation_ods_code": row["organisation_ods_code"],
        "data": data,
    }


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
    for end, staff_ids in by_end.items():
        await repository.end_date_staff(session, staff_ids, end)
    await refresh_uptake(session, [staff_id for staff_id, _, _ in leavers])
    await record_events(
        session,
        [
            {
                "type": "staffEndDated",
                "resource_type": "staff",
                "resource_id": number,
                "organisation_ods_code": organisation,
                "data": {"endDate": end.isoformat(), "reason": "absentFromFullSnapshot"},
            }
            for _, number, end in leavers
        ],
        caller=caller,
    )


@dataclass(frozen=True)
class StaffView:
    member: StaffMember
    staff_group_name: str
    created: bool = False


async def get_staff(session: AsyncSession, caller: Caller, employee_number: str) -> StaffView:
    member = await repository.get_by_employee_number(session, employee_number)
    visible = member is not None and caller.may_access(member.organisation_ods_code)
    organisation = member.organisation_ods_code if member is not None and visible else None
    caller.note_audit("read", "staff", employee_number, organisation)
    if member is None or not visible:
        raise NotFound(f"No staff member {employee_number}.")
    return StaffView(member, await repository.staff_group_name(session, member.staff_group_code))


async def get_history(session: AsyncSession, caller: Caller, employee_number: str) -> list[Any]:
    """The dated periods of organisation, staff group and board membership."""
    view = await get_staff(session, caller, employee_number)
    return await repository.history_of(session, view.member.id)


async def _visible(session: AsyncSession, caller: Caller, employee_number: str) -> StaffMember:
    member = await repository.get_by_employee_number(session, employee_number)
    if member is None or not caller.may_access(member.organisation_ods_code):
        raise NotFound(f"No staff member {employee_number}.")
    return member


async def put_staff(
    session: AsyncSession,
    caller: Caller,
    employee_number: str,
    record: StaffPut,
    if_match: str | None,
) -> StaffView:
    """Creates or replaces one person; a PUT that changes nothing writes nothing."""
    existing = await repository.get_by_employee_number(session, employee_number)
    caller.note_audit(
        "update" if existing else "create", "staff", employee_number, record.organisation
    )
    if existing is not None:
        if not caller.may_access(existing.organisation_ods_code):
            raise NotFound(f"No staff member {employee_number}.")
        check_if_match(if_match, existing.version)
    elif if_match is not None:
        check_if_match(if_match, 0)
    if not caller.may_access(record.organisation):
        raise Forbidden(f"This client may not place staff in organisation {record.organisation}.")
    row, reasons = to_row(employee_number, record, await load_references(session))
    if row is None:
        raise ValidationFailed(f"{len(reasons)} field(s) not valid.", invalid_params=reasons)
    applied = await apply_staff_rows(session, caller, [row], [1], effective_on=today())
    if applied.rejections:
        raise NotFound(f"No staff member {employee_number}.")
    member = await repository.get_by_employee_number(session, employee_number)
    assert member is not None
    await session.refresh(member)
    return StaffView(
        member,
        await repository.staff_group_name(session, member.staff_group_code),
        created=bool(applied.created),
    )


async def patch_staff(
    session: AsyncSession,
    caller: Caller,
    employee_number: str,
    changes: dict[str, Any],
    if_match: str | None,
) -> StaffView:
    """Applies a partial change: the merged record is checked as a whole."""
    member = await _visible(session, caller, employee_number)
    check_if_match(if_match, member.version)
    current = {
        "givenName": member.given_name,
        "familyName": member.family_name,
        "workEmail": member.work_email,
        "organisation": member.organisation_ods_code,
        "staffGroup": member.staff_group_code,
        "jobTitle": member.job_title,
        "boardMember": member.board_member,
        "startDate": member.start_date,
        "endDate": member.end_date,
    }
    merged = StaffPut.model_validate({**current, **changes})
    return await put_staff(session, caller, employee_number, merged, None)


async def list_staff(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    organisation: str | None,
    staff_group: str | None,
    board_member: bool | None,
    active: bool | None,
    updated_since: Any,
) -> PageResult[tuple[StaffMember, str]]:
    caller.note_audit("list", "staff", None, organisation)
    group_code = None
    if staff_group is not None:
        lookup = await repository.staff_group_lookup(session)
        found = lookup.get(staff_group) or lookup.get(staff_group.casefold())
        if found is None:
            raise ValidationFailed(
                f"Unknown ESR staff group {staff_group!r}.",
                invalid_params=[("staffGroup", "Not an ESR staff group name or code.")],
            )
        group_code = found[0]
    on = today()
    return await repository.list_staff(
        session,
        page,
        visible_to=caller.organisations,
        organisation=organisation,
        staff_group_code=group_code,
        board_member=board_member,
        active_on=on if active is True else None,
        inactive_on=on if active is False else None,
        updated_since=updated_since,
    )
