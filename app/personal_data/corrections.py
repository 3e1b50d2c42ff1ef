"""The rectification trail: who corrected a person's names or e-mail, when, and why."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.bulk import insert_rows
from app.core.clock import utcnow
from app.models import PersonalDataCorrection
from app.staff.fields import IDENTITY_FIELDS, StaffRow

# The optional header saying why a staff record's (or a staff batch's) names or e-mail were
# corrected.
REASON_HEADER = "Correction-Reason"
# The reason kept for a batch's corrections when the batch does not say one.
BATCH_REASON = "HR batch"


@dataclass(frozen=True)
class Correction:
    staff_id: int
    fields: list[str]  # wire names


def corrected_fields(before: Any, after: StaffRow) -> list[str]:
    """The identity fields (wire names; UK GDPR article 16) whose stored value ``after``
    changes: ``before`` is the stored row, ``after`` the row to write."""
    return [
        f.wire for f in IDENTITY_FIELDS if getattr(before, f.column) != getattr(after, f.column)
    ]


async def record_corrections(
    session: AsyncSession,
    caller: Caller | None,
    corrections: Sequence[Correction],
    reason: str | None,
) -> None:
    """Notes changes of people's names or e-mail (not their creation) with who and why: one
    statement for a whole batch. Writes without a client (demo data) are not corrections."""
    if caller is None or not corrections:
        return
    now = utcnow()
    await insert_rows(
        session,
        PersonalDataCorrection.__table__,
        [
            {
                "staff_id": c.staff_id,
                "corrected_at": now,
                "client_id": caller.client_id,
                "request_id": caller.request_id,
                "fields": c.fields,
                "reason": reason,
            }
            for c in corrections
        ],
    )
