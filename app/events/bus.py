"""The message bus: domains publish typed events; the feed and the handlers hear them.

``publish`` writes the feed events of a batch to the event feed (one statement), then hands the
batch to the handlers registered for each event type, in the publisher's transaction: what a
handler changes (awards from completions, matches from staff identities) commits or rolls back
with the change that caused it. Handlers take a batch of one type at a time, so that a
10,000-record batch is evaluated set-based, not once per record. A handler may publish in turn
(awards -> credentials).

The handlers are assembled in one place, ``app/bootstrap.py``, which is the only module that
knows which domain listens to which: domains import this module and their own events only.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.events.domain import DomainEvent, FeedEvent
from app.events.service import record_feed_events

Handler = Callable[[AsyncSession, Sequence[Any], Caller | None], Awaitable[None]]

_handlers: dict[type[DomainEvent], tuple[Handler, ...]] | None = None


def configure(handlers: Mapping[type[DomainEvent], Sequence[Handler]]) -> None:
    """Registers the handlers of each event type (``app/bootstrap.py``), replacing any."""
    global _handlers
    _handlers = {event_type: tuple(listed) for event_type, listed in handlers.items()}


async def publish(
    session: AsyncSession, events: Sequence[DomainEvent], *, caller: Caller | None
) -> None:
    """Writes the feed events among ``events`` and runs the handlers of each type, in order
    of first appearance, in the session's transaction."""
    if _handlers is None:
        raise RuntimeError("The message bus has no handlers: call app.bootstrap.bootstrap().")
    if not events:
        return
    await record_feed_events(session, [e for e in events if isinstance(e, FeedEvent)], caller)
    by_type: dict[type[DomainEvent], list[DomainEvent]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    for event_type, batch in by_type.items():
        for handler in _handlers.get(event_type, ()):
            await handler(session, batch, caller)
