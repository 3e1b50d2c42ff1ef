"""The rectification trail: who corrected a person's names or e-mail, when, and why."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import utcnow
from app.models import PersonalDataCorrection, StaffMember

# The fields whose change corrects who the person is (UK GDPR article 16), by wire name.
IDENTITY_FIELDS = {
    "given_name": "givenName",
    "family_name": "familyName",
    "work_email": "workEmail",
}
# The optional header saying why a staff record's names or e-mail were corrected.
REASON_HEADER = "Correction-Reason"


def identity_of(member: StaffMember | None) -> dict[str, Any] | None:
    """What ``record_corrections`` compares: the identity fields before a change."""
    if member is None:
        return None
    return {field: getattr(member, field) for field in IDENTITY_FIELDS}


async def record_corrections(
    session: AsyncSession,
    caller: Caller,
    before: dict[str, Any] | None,
    member: StaffMember,
    reason: str | None,
) -> None:
    """Notes a change of the person's names or e-mail (not their creation) with who and why."""
    if before is None:
        return
    changed = [
        wire for field, wire in IDENTITY_FIELDS.items() if before[field] != getattr(member, field)
    ]
    if not changed:
        return
    session.add(
        PersonalDataCorrection(
            staff_id=member.id,
            corrected_at=utcnow(),
            client_id=caller.client_id,
            request_id=caller.request_id,
            fields=changed,
            reason=reason,
        )
    )
    await session.flush()
