"""Staff batches (JSON or CSV): per-record results, and full snapshots that find leavers."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.metrics import BATCH_RECORDS_RECEIVED, BATCH_RECORDS_REJECTED, count_on_commit
from app.core.problems import NotFound, ValidationFailed
from app.core.settings import Settings
from app.staff import snapshots, writes
from app.staff.records import validate_batch_records
from app.staff.schemas import BatchMode, RecordRejection, StaffBatchRecord, StaffBatchResult


async def apply_staff_batch(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    *,
    mode: BatchMode,
    organisation: str | None,
    allow_mass_leavers: bool,
    records: Sequence[Mapping[str, Any] | StaffBatchRecord],
    snapshot_id: int | None = None,
    correction_reason: str | None = None,
) -> StaffBatchResult:
    """Stores every valid record and reports every rejected one; a full snapshot also
    end-dates the organisation's active staff that it does not hold. A batch that is one part
    of a snapshot sent in several (``snapshot_id``) end-dates nobody: completing the snapshot
    does (app/staff/snapshots.py)."""
    caller.note_audit("batch", "staffBatch", None, organisation)
    snapshot = None
    if snapshot_id is not None:
        if mode is not BatchMode.FULL_SNAPSHOT:
            raise ValidationFailed(
                "Only a fullSnapshot batch can be part of a snapshot.",
                invalid_params=[("snapshot", "Send it with mode fullSnapshot.")],
            )
        snapshot = await snapshots.get_snapshot(
            session, caller, snapshot_id, action="batch", lock=True
        )
        snapshots.refuse_unless_open(snapshot)
        snapshots.refuse_past_max_batches(snapshot, settings)
        if organisation not in (None, snapshot.organisation_ods_code):
            raise ValidationFailed(
                f"Staff snapshot {snapshot_id} is of {snapshot.organisation_ods_code}.",
                invalid_params=[("organisation", "Must be the snapshot's organisation.")],
            )
        organisation = snapshot.organisation_ods_code
    snapshot_of = organisation if mode is BatchMode.FULL_SNAPSHOT else None
    if mode is BatchMode.FULL_SNAPSHOT and organisation is None:
        raise ValidationFailed(
            "A full snapshot names its organisation.",
            invalid_params=[("organisation", "Required when mode is fullSnapshot.")],
        )
    references = await writes.load_references(session)
    if organisation is not None and (
        organisation not in references.organisations or not caller.may_access(organisation)
    ):
        raise NotFound(f"No organisation {organisation}.")

    leavers = []
    present = _employee_numbers(records) if snapshot_of is not None else set()
    if snapshot_of is not None and snapshot is None:
        leavers = await writes.end_date_absent_staff(
            session,
            caller,
            snapshot_of,
            present,
            allow_mass_leavers=allow_mass_leavers,
            max_share=settings.snapshot_max_leaver_share,
        )
    validated = validate_batch_records(
        records,
        references,
        caller,
        default_organisation=organisation,
        snapshot_organisation=snapshot_of,
    )
    applied = await writes.apply_staff_rows(
        session,
        caller,
        validated.rows,
        validated.row_numbers,
        effective_on=today(),
        correction_reason=correction_reason,
    )
    if snapshot is not None:
        await snapshots.note_batch(session, snapshot, present, len(records))
    elif snapshot_of is not None:
        await writes.write_leavers(session, caller, snapshot_of, leavers)
    rejections = sorted(validated.rejections + applied.rejections, key=lambda r: r.row)
    count_on_commit(session, BATCH_RECORDS_RECEIVED.labels("staff"), len(records))
    count_on_commit(session, BATCH_RECORDS_REJECTED.labels("staff"), len(rejections))
    return StaffBatchResult(
        mode=mode.value,
        organisation=organisation,
        snapshot=snapshot_id,
        received=len(records),
        created=len(applied.created),
        updated=len(applied.updated),
        unchanged=applied.unchanged,
        end_dated=applied.end_dated + len(leavers),
        rejected=len(rejections),
        rejections=[
            RecordRejection(
                row=r.row,
                employee_number=r.employee_number,
                reasons=[{"name": name, "reason": reason} for name, reason in r.reasons],
            )
            for r in rejections
        ],
    )


def _employee_numbers(records: Sequence[Mapping[str, Any] | StaffBatchRecord]) -> set[str]:
    """Everyone a snapshot's records name, the rejected ones too: a person whose record was
    refused is still on the organisation's staff, so is never taken for a leaver."""
    return {
        r.employee_number if isinstance(r, StaffBatchRecord) else str(r.get("employeeNumber"))
        for r in records
        if isinstance(r, StaffBatchRecord)
        or (isinstance(r, Mapping) and r.get("employeeNumber") is not None)
    }
