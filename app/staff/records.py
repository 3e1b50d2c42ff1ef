"""From what HR sent to rows the repository can write: validation, references, permissions."""

import functools
import hashlib
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.auth.caller import Caller
from app.core.problem_handlers import error_location
from app.staff.fields import HR_COLUMNS, HR_FIELDS, StaffRow
from app.staff.schemas import StaffBatchRecord, StaffFields

# What a record sent holds, in StaffRow's order after its key; the staff group, sent as a code
# or a name, is stored as the code.
_SENT = operator.attrgetter(*(f.name for f in HR_FIELDS))
_STAFF_GROUP = HR_COLUMNS.index("staff_group_code")


@dataclass(frozen=True)
class References:
    """What a record is checked against: known organisations and staff groups."""

    organisations: set[str]
    staff_groups: Mapping[str, tuple[str, str]]  # code or lower-cased name → (code, name)


@dataclass
class Rejection:
    row: int
    employee_number: str | None
    reasons: list[tuple[str, str]]


@dataclass
class Validated:
    rows: list[StaffRow] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def to_row(
    employee_number: str, record: StaffFields, references: References
) -> tuple[StaffRow | None, list[tuple[str, str]]]:
    """The staff_members row for a schema-valid record, or the reasons it cannot be stored."""
    reasons: list[tuple[str, str]] = []
    if record.organisation not in references.organisations:
        reasons.append(("organisation", f"Unknown organisation {record.organisation}."))
    group = references.staff_groups.get(record.staff_group) or references.staff_groups.get(
        record.staff_group.casefold()
    )
    if group is None:
        reasons.append(("staffGroup", f"Unknown ESR staff group {record.staff_group!r}."))
    if reasons or group is None:
        return None, reasons
    values = list(_SENT(record))
    values[_STAFF_GROUP] = group[0]
    return StaffRow(employee_number, *values), []


@functools.lru_cache(maxsize=16_384)
def mbox_sha1sum(email: str) -> str:
    """The xAPI mbox_sha1sum of the lower-cased address (completions match actors by it).
    Remembered for a batch's worth of addresses: a staff batch stores each person's, and
    then looks for completions sent with it."""
    return hashlib.sha1(f"mailto:{email.casefold()}".encode()).hexdigest()  # noqa: S324


def validate_batch_records(
    raw_records: Sequence[Mapping[str, Any] | StaffBatchRecord],
    references: References,
    caller: Caller,
    *,
    default_organisation: str | None,
    snapshot_organisation: str | None,
) -> Validated:
    """Checks every record on its own, so one bad record never stops the others. A record may
    come checked already (``StaffBatchRecord``, when the whole batch was valid: every record
    then names its organisation)."""
    validated = Validated()
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_records, start=1):
        if isinstance(raw, StaffBatchRecord):  # checked already, with the whole batch
            record = raw
        elif not isinstance(raw, Mapping):
            validated.rejections.append(Rejection(index, None, [("", "Not a JSON object.")]))
            continue
        else:
            if default_organisation is not None and raw.get("organisation") in (None, ""):
                raw = {**raw, "organisation": default_organisation}
            try:
                record = StaffBatchRecord.model_validate(raw)
            except ValidationError as exc:
                employee_number = raw.get("employeeNumber")
                number = str(employee_number) if employee_number is not None else None
                reasons = [(error_location(e["loc"]), e["msg"]) for e in exc.errors()]
                validated.rejections.append(Rejection(index, number, reasons))
                continue
        row, reasons = to_row(record.employee_number, record, references)
        if row is not None:
            reasons = _permission_reasons(row, caller, snapshot_organisation)
        if record.employee_number in seen:
            reasons.append(
                ("employeeNumber", f"Repeats the record in row {seen[record.employee_number]}.")
            )
        if row is None or reasons:
            validated.rejections.append(Rejection(index, record.employee_number, reasons))
            continue
        seen[record.employee_number] = index
        validated.rows.append(row)
        validated.row_numbers.append(index)
    return validated


def _permission_reasons(
    row: StaffRow, caller: Caller, snapshot_organisation: str | None
) -> list[tuple[str, str]]:
    organisation = row.organisation_ods_code
    if not caller.may_access(organisation):
        return [("organisation", f"This client may not write staff of {organisation}.")]
    if snapshot_organisation is not None and organisation != snapshot_organisation:
        return [
            (
                "organisation",
                f"A full snapshot of {snapshot_organisation} holds only its own staff.",
            )
        ]
    return []
