"""Where counts are shared between processes: the interface both stores implement."""

from collections.abc import Iterable
from typing import Protocol

from app.core.quotas import Count, Quota


class RateLimitStore(Protocol):
    async def hit(self, key: str, quota: Quota, now: float) -> Count:
        """Counts one request for ``key`` (when it is allowed) and says whether it is."""
        ...

    async def fold(self, keys: Iterable[str], now: float) -> None:
        """Shares what this process counted for these keys, when it is time to (after the
        response, outside any request transaction)."""
        ...

    async def close(self) -> None: ...
