"""The message bus: a batch's feed events are written first, then each type's handlers run
with the whole batch of that type, in the publisher's transaction."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.bootstrap import bootstrap
from app.events import bus
from app.events.domain import ENVELOPE, DomainEvent, FeedEvent
from app.models import Event


@dataclass(frozen=True)
class Renamed(FeedEvent):
    feed_type: ClassVar[str] = "organisationChanged"
    resource_type: ClassVar[str] = "organisation"
    organisation: str | None = field(metadata=ENVELOPE)
    changed: tuple[str, ...] = ("name",)

    @property
    def resource_id(self) -> str:
        assert self.organisation is not None
        return self.organisation


@dataclass(frozen=True)
class Noticed(DomainEvent):
    """Not on the feed: for handlers only."""

    what: str


@pytest.fixture
def heard() -> Iterator[list[tuple[str, list[Any], int]]]:
    """Handlers that note what they were given and how many feed rows they could see."""
    log: list[tuple[str, list[Any], int]] = []

    async def on_renamed(
        session: AsyncSession, events: Sequence[Renamed], caller: Caller | None
    ) -> None:
        stored = await session.scalar(select(func.count()).select_from(Event))
        log.append(("renamed", [e.organisation for e in events], int(stored or 0)))
        await bus.publish(session, [Noticed(f"after {len(events)}")], caller=caller)

    async def on_noticed(
        session: AsyncSession, events: Sequence[Noticed], caller: Caller | None
    ) -> None:
        log.append(("noticed", [e.what for e in events], 0))

    bus.configure({Renamed: [on_renamed], Noticed: [on_noticed]})
    try:
        yield log
    finally:
        bootstrap()


async def test_feed_rows_come_first_then_one_call_per_type_in_the_same_transaction(
    session: AsyncSession, heard: list[tuple[str, list[Any], int]]
) -> None:
    await bus.publish(session, [Renamed("7A4"), Noticed("first"), Renamed("7A6")], caller=None)
    assert heard == [
        ("renamed", ["7A4", "7A6"], 2),  # both rows written, by one batch, before the handler
        ("noticed", ["after 2"], 0),  # published by a handler: handled at once
        ("noticed", ["first"], 0),
    ]
    rows = (await session.execute(select(Event.type, Event.resource_id, Event.data))).all()
    assert sorted(rows) == [
        ("organisationChanged", "7A4", {"changed": ["name"]}),
        ("organisationChanged", "7A6", {"changed": ["name"]}),
    ]
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_publishing_before_the_handlers_are_registered_is_refused(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "_handlers", None)
    with pytest.raises(RuntimeError, match="bootstrap"):
        await bus.publish(session, [Renamed("7A4")], caller=None)
