"""Award evaluation as the handler of the events that can change a person's level.

Registered in ``app/bootstrap.py`` for completions recorded, matched and retracted and for
projects approved; it runs in the publisher's transaction, so awards stay exact: the people
are locked and evaluated before the change that called for it commits. The events are read
through the protocols below, so this domain imports none of the publishers' modules.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import evaluation

# Roles whose people are re-evaluated on a project's approval (Silver: lead and member; Gold:
# mentor). Sponsors are not evidence for any level.
AWARD_ROLES = ("lead", "member", "mentor")


class ConcernsPerson(Protocol):
    """A completion event: the person it counts for, if matched."""

    @property
    def staff_id(self) -> int | None: ...


class TeamMember(Protocol):
    @property
    def staff_id(self) -> int: ...
    @property
    def role(self) -> str: ...


class ApprovedProject(Protocol):
    @property
    def team(self) -> Sequence[TeamMember]: ...


async def evaluate_completion_holders(
    session: AsyncSession, events: Sequence[ConcernsPerson], caller: Caller | None
) -> None:
    """Re-evaluates the people whose completions were recorded, matched or retracted."""
    staff_ids = sorted({e.staff_id for e in events if e.staff_id is not None})
    if staff_ids:
        await evaluation.evaluate_awards(session, staff_ids, caller)


async def evaluate_project_teams(
    session: AsyncSession, events: Sequence[ApprovedProject], caller: Caller | None
) -> None:
    """Re-evaluates the leads, members and mentors of the projects approved."""
    staff_ids = {m.staff_id for e in events for m in e.team if m.role in AWARD_ROLES}
    await evaluation.evaluate_awards(session, sorted(staff_ids), caller)
