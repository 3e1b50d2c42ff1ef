"""The hook that runs when a person becomes known, or their work e-mail changes.

Course completions kept as unmatched (sent by an e-learning platform before HR sent the
person) are matched here, in the same transaction as the staff change.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.completions.matching import match_unmatched_completions


@dataclass(frozen=True)
class StaffIdentity:
    staff_id: int
    employee_number: str
    work_email_key: str | None
    # The work e-mail the person had before this change: completions held back because others
    # shared it may now have a single owner.
    previous_work_email_key: str | None = None


async def staff_identified(session: AsyncSession, people: Sequence[StaffIdentity]) -> None:
    """Matches the unmatched completions of these people (set-based: a few statements for
    the whole list), with completionMatched events and award re-evaluation."""
    await match_unmatched_completions(session, people, caller=None)
