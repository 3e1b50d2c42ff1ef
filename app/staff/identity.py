"""The hook that runs when a person becomes known, or their work e-mail changes.

Course completions kept as unmatched (sent by an e-learning platform before HR sent the
person) are matched here; the completions domain fills this in.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class StaffIdentity:
    staff_id: int
    employee_number: str
    work_email_key: str | None


async def staff_identified(session: AsyncSession, people: Sequence[StaffIdentity]) -> None:
    """Called in the same transaction as the staff change (no-op until completions exist)."""
    return None
