"""A short-lived, per-process cache for answers that many callers ask for at once.

Entries live for a few seconds (the caller says how many; 0 turns the cache off). Concurrent
askers of a missing entry share one computation, so an expiry under load costs one query, not
one per waiting request. An entry is renewed ahead of its expiry: the first asker in the last
quarter of its life starts the next computation in the background and is answered from the
entry meanwhile, so under steady demand no asker waits for a computation, and no answer is
older than its lifetime. A computation therefore runs outside any one asker's request, and
must bring what it needs (its own database session). Failures are never kept.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from cachetools import TTLCache

T = TypeVar("T")

# An entry is renewed once it has lived this share of its life.
RENEW_AFTER = 0.75


@dataclass(frozen=True)
class _Entry:
    answer: asyncio.Future[Any]
    started: float  # when its computation started: the answer is at least this fresh


class ShortCache:
    def __init__(
        self,
        seconds: float,
        *,
        maxsize: int = 1024,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._timer = timer
        self._entries: TTLCache[Hashable, _Entry] | None = (
            TTLCache(maxsize=maxsize, ttl=seconds, timer=timer) if seconds > 0 else None
        )
        self._renewing: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if self._entries is None:
            return await compute()
        now = self._timer()
        entry = self._entries.get(key)
        if entry is not None and now - entry.started >= self.seconds:
            entry = None  # renewed late: its answer is older than it may be
        if entry is None:
            answer = self._renewing.get(key) or self._start(key, compute, now)
        else:
            answer = entry.answer
            if now - entry.started >= self.seconds * RENEW_AFTER and key not in self._renewing:
                self._start(key, compute, now)
        result: T = await asyncio.shield(answer)
        return result

    def clear(self) -> None:
        if self._entries is not None:
            self._entries.clear()

    def _start(
        self, key: Hashable, compute: Callable[[], Awaitable[Any]], now: float
    ) -> asyncio.Future[Any]:
        """Computes the entry's next answer, which becomes the entry once it succeeds."""
        answer = asyncio.ensure_future(compute())
        self._renewing[key] = answer
        answer.add_done_callback(lambda done: self._settle(key, _Entry(done, now)))
        return answer

    def _settle(self, key: Hashable, entry: _Entry) -> None:
        if self._renewing.get(key) is entry.answer:
            del self._renewing[key]
        if entry.answer.cancelled() or entry.answer.exception() is not None:
            return  # not kept; the entry, if any, is served until it expires
        if self._entries is not None:
            self._entries[key] = entry
