"""A short-lived, per-process cache for answers that many callers ask for at once.

Entries live for a few seconds (the caller says how many; 0 turns the cache off). Concurrent
askers of a missing entry share one computation, so an expiry under load costs one query, not
one per waiting request. Failures are never kept.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from cachetools import TTLCache

T = TypeVar("T")


class ShortCache:
    def __init__(
        self,
        seconds: float,
        *,
        maxsize: int = 1024,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._entries: TTLCache[Hashable, asyncio.Future[Any]] | None = (
            TTLCache(maxsize=maxsize, ttl=seconds, timer=timer) if seconds > 0 else None
        )

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if self._entries is None:
            return await compute()
        future = self._entries.get(key)
        if future is None:
            future = asyncio.ensure_future(compute())
            self._entries[key] = future
            future.add_done_callback(lambda done: self._forget_failure(key, done))
        result: T = await asyncio.shield(future)
        return result

    def clear(self) -> None:
        if self._entries is not None:
            self._entries.clear()

    def _forget_failure(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        if self._entries is None or self._entries.get(key) is not done:
            return
        if done.cancelled() or done.exception() is not None:
            del self._entries[key]
