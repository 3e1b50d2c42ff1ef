"""Staff batches (JSON or CSV): per-record results, and full snapshots that find leavers."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today
from app.core.metrics import BATCH_RECORDS_RECEIVED, BATCH_RECORDS_REJECTED, count_on_commit
from app.core.problems import NotFound, ValidationFailed
from app.core.settings import Settings
from app.staff import writes
from app.staff.records import validate_batch_records
from app.staff.schemas import BatchMode, RecordRejection, StaffBatchResult


async def apply_staff_batch(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    *,
    mode: BatchMode,
    organisation: str | None,
    allow_mass_leavers: bool,
    records: Sequence[Mapping[str, Any]],
) -> StaffBatchResult:
    """Stores every valid record and reports every rejected one; a full snapshot also
    end-dates the organisation's active staff that it does not hold."""
    caller.note_audit("batch", "staffBatch", None, organisation)
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
    if snapshot_of is not None:
        present = {str(r.get("employeeNumber")) for r in records if isinstance(r, Mapping)}
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
        session, caller, validated.rows, validated.row_numbers, effective_on=today()
    )
    if snapshot_of is not None:
        await writes.write_leavers(session, caller, snapshot_of, leavers)
    rejections = sorted(validated.rejections + applied.rejections, key=lambda r: r.row)
    count_on_commit(session, BATCH_RECORDS_RECEIVED.labels("staff"), len(records))
    count_on_commit(session, BATCH_RECORDS_REJECTED.labels("staff"), len(rejections))
    return StaffBatchResult(
        mode=mode.value,
        organisation=organisation,
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
