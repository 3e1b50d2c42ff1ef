"""The one entry point every change of evidence calls: re-evaluate these people's awards.

Completions (recorded, matched, retracted) and projects (approved) call it in the same
transaction as their change. The awards domain fills it in: gather each person's facts, run
the pure rules module under the current rules version, persist the difference.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller


async def evaluate_awards(
    session: AsyncSession, staff_ids: Sequence[int], caller: Caller | None
) -> None:
    """Re-evaluates the awards of these staff members (no-op until the awards domain)."""
    return None
