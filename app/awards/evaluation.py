"""The one entry point every change of evidence calls: re-evaluate these people's awards.

Completions (recorded, matched, retracted) and projects (approved) call it in the same
transaction as their change. The awards domain fills it in: gather each person's facts, run
the pure rules module under the current rules version, persist the difference.

The flow, step by step, is in ``app/awards/facts.py``; the decision is
``app/awards/rules.decide`` and the difference to write is
``app/awards/changes.plan_award_changes``, both pure and already tested. What is left is the
gathering (it needs the completion, course and project tables) and the writing, with
``service.award_granted_event`` / ``service.award_revoked_event`` for the events.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller


async def evaluate_awards(
    session: AsyncSession, staff_ids: Sequence[int], caller: Caller | None
) -> None:
    """Re-evaluates the awards of these staff members (no-op until the awards domain)."""
    return None
