"""The uptake projection's handler: note who changed, in the writer's transaction.

Registered in ``app/bootstrap.py`` for the events that change a person's place in the figures
(staff created, moved, redated or end-dated; awards granted, revoked or dated again). The
bus hands it a batch of one event type, so each publish of that type writes one outbox row
(``note_changed``) however many people it names; the worker refreshes them off the request
path. People just created are noted with where they were placed, which the worker takes
rather than reading them back. The events are read through the protocols below, so this
domain imports none of the publishers' modules.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.uptake.projection import NewPlacement, note_changed


class ConcernsPerson(Protocol):
    """An event about one person, named by staff id."""

    @property
    def staff_id(self) -> int: ...


class PlacesPerson(ConcernsPerson, Protocol):
    """An event about where one person is counted; ``first_placement`` is set when the person
    was just created."""

    @property
    def first_placement(self) -> NewPlacement | None: ...


async def note_people_changed(
    session: AsyncSession, events: Sequence[ConcernsPerson], caller: Caller | None
) -> None:
    """Notes the people of these events for the projection to refresh (one insert)."""
    await note_changed(session, (e.staff_id for e in events))


async def note_people_placed(
    session: AsyncSession, events: Sequence[PlacesPerson], caller: Caller | None
) -> None:
    """Notes the people of these events, with the placements of those just created (one
    insert): the worker need not read those back."""
    placements = {e.staff_id: e.first_placement for e in events if e.first_placement}
    await note_changed(session, (e.staff_id for e in events), placements)
