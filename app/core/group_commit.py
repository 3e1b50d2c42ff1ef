"""Group commit: requests that arrive together are written in one transaction.

A request hands its item to ``GroupCommit.submit`` and waits. While no group is being written,
the first item starts one; items that arrive while a group is written wait for the next, so a
group holds whatever arrived meanwhile (one item when the service is quiet, dozens under load)
and the statements a write needs run once per group instead of once per request. Each request
is answered only after the transaction holding its item has committed: nothing is deferred.

Items with the same key never share a group (the later one waits for the next), so a group
decides each item as the same requests one after another would. A group holds items of one
``kind`` only (for completions, one client's), so that it takes its locks in the one sorted pass
a single request or a batch takes; two kinds in one transaction would take two passes, and two
such groups could deadlock.

When a group fails before its COMMIT (a deadlock, a lost connection), nothing of it is stored
and every item is answered ``None``: its request then does its write alone, in its own
transaction, and meets the error itself if it persists. When the connection is lost during the
COMMIT, the group may or may not be stored: every request gets that error, as a request alone
whose COMMIT went unanswered would.
"""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database_faults import is_database_unavailable
from app.core.logging import get_logger

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
# An item and the future its request waits on (None: write it alone).
Waiting = tuple[Item, asyncio.Future[Outcome | None]]

log = get_logger("iqt.group_commit")


class GroupCommit(Generic[Item, Outcome]):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        write: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Outcome]]],
        *,
        key: Callable[[Item], Hashable],
        kind: Callable[[Item], Hashable] = lambda _: None,
        max_items: int,
        linger: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``write`` stores a group in the session it is given (it does not commit) and
        returns one outcome per item, in order. After a group, when fewer items are waiting
        than three quarters of that group and those that waited while it was written, the
        writer waits ``linger`` seconds for more (never when the first item of a quiet spell
        arrives), by awaiting ``sleep`` (tests pass their own)."""
        self._sessionmaker = sessionmaker
        self._write = write
        self._key = key
        self._kind = kind
        self._max_items = max_items
        self._linger = linger
        self._sleep = sleep
        self._waiting: list[Waiting[Item, Outcome]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Outcome | None:
        """The item's outcome once its group has committed; ``None`` when the group failed
        and the caller must write the item alone."""
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():  # done: cancelled before it ran
            # A context of its own: what it logs is not put down to the request that started it.
            self._writer = asyncio.create_task(
                self._write_groups(), name="iqt-group-commit", context=contextvars.Context()
            )
        return await future

    async def _write_groups(self) -> None:
        try:
            expected = 0
            while self._waiting:
                if len(self._waiting) < expected * 3 // 4:
                    # Under load, the requests just answered are followed by their clients'
                    # next ones: a moment's wait lets those join this group, rather than a group
                    # of a few paying for the same statements as a full one.
                    await self._sleep(self._linger)
                group = self._next_group()
                await self._write_group(group)
                # The clients of this group and those already waiting for the next: without
                # counting the latter, half the clients written while the other half waits
                # stayed two half groups for good.
                expected = min(self._max_items, len(group) + len(self._waiting))
        except BaseException:  # cancelled (the event loop closing): the waiting write alone
            _answer(self._waiting, None)
            self._waiting = []
            raise
        finally:
            self._writer = None

    def _next_group(self) -> list[Waiting[Item, Outcome]]:
        group: list[Waiting[Item, Outcome]] = []
        later: list[Waiting[Item, Outcome]] = []
        keys: set[Hashable] = set()
        kind: Hashable = None
        for waiting in self._waiting:
            item, future = waiting
            if future.done():  # its request went away before the group was written
                continue
            key, item_kind = self._key(item), self._kind(item)
            if not group:
                kind = item_kind
            if len(group) < self._max_items and key not in keys and item_kind == kind:
                keys.add(key)
                group.append(waiting)
            else:
                later.append(waiting)
        self._waiting = later
        return group

    async def _write_group(self, group: list[Waiting[Item, Outcome]]) -> None:
        if not group:
            return
        committing = False
        try:
            async with self._sessionmaker() as session:
                outcomes: Sequence[Outcome | None] = await self._write(
                    session, [item for item, _ in group]
                )
                committing = True
                await session.commit()
        except Exception as error:
            log.warning("group_commit.failed", items=len(group), error=type(error).__name__)
            if committing and is_database_unavailable(error):
                _answer(group, error)
                return
            outcomes = [None] * len(group)
        except BaseException:
            _answer(group, None)
            raise
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


def _answer(waiting: Sequence[Waiting[Item, Outcome]], answer: BaseException | None) -> None:
    """Answers every request still waiting on these items: ``None`` (write alone) or an error."""
    for _, future in waiting:
        if future.done():
            continue
        if answer is None:
            future.set_result(None)
        else:
            future.set_exception(answer)
