"""Staff records: reads, and single upserts and patches (batches are in batches.py)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import StaffMember
from app.staff import repository
from app.staff.fields import HR_FIELDS
from app.staff.records import to_row
from app.staff.schemas import StaffPut
from app.staff.writes import NUMBER_UNAVAILABLE, apply_staff_rows, load_references


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
    correction_reason: str | None = None,
) -> StaffView:
    """Creates or replaces one person; a PUT that changes nothing writes nothing. A change of
    names or e-mail is kept in the rectification trail, with ``correction_reason``."""
    existing = await repository.get_by_employee_number(session, employee_number)
    # A record the caller cannot see is not "updated" in its audit trail either.
    updating = existing is not None and caller.may_access(existing.organisation_ods_code)
    caller.note_audit(
        "update" if updating else "create", "staff", employee_number, record.organisation
    )
    if existing is not None:
        if not caller.may_access(existing.organisation_ods_code):
            raise _unavailable(employee_number)
        check_if_match(if_match, existing.version)
    elif if_match is not None:
        check_if_match(if_match, 0)
    if not caller.may_access(record.organisation):
        raise Forbidden(f"This client may not place staff in organisation {record.organisation}.")
    row, reasons = to_row(employee_number, record, await load_references(session))
    if row is None:
        raise ValidationFailed(f"{len(reasons)} field(s) not valid.", invalid_params=reasons)
    applied = await apply_staff_rows(
        session, caller, [row], [1], effective_on=today(), correction_reason=correction_reason
    )
    if applied.rejections:  # moved out of the caller's organisations meanwhile
        raise _unavailable(employee_number)
    member = await repository.get_by_employee_number(session, employee_number)
    assert member is not None
    await session.refresh(member)
    return StaffView(
        member,
        await repository.staff_group_name(session, member.staff_group_code),
        created=bool(applied.created),
    )


def _unavailable(employee_number: str) -> Conflict:
    """Held by a record outside the caller's organisations: said without saying where."""
    return Conflict(
        f"Employee number {employee_number} cannot be used by this client.",
        invalid_params=[("employeeNumber", NUMBER_UNAVAILABLE)],
    )


async def patch_staff(
    session: AsyncSession,
    caller: Caller,
    employee_number: str,
    changes: dict[str, Any],
    if_match: str | None,
    correction_reason: str | None = None,
) -> StaffView:
    """Applies a partial change (JSON merge patch): the merged record is checked as a whole."""
    member = await _visible(session, caller, employee_number)
    check_if_match(if_match, member.version)
    current = {f.wire: getattr(member, f.column) for f in HR_FIELDS}
    # JSON merge patch: null removes a field, which then takes its default, as in a PUT without it.
    merged = StaffPut.model_validate(
        {name: value for name, value in {**current, **changes}.items() if value is not None}
    )
    return await put_staff(session, caller, employee_number, merged, None, correction_reason)


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
