"""Counts shared through Redis (``IQT_REDIS_URL``), with the ``limits`` library's async storage.

The fixed window strategy of ``limits`` (``FixedWindowRateLimiter``): one counter per key,
``INCRBY`` and an expiry of one window set by the first hit. Every request is counted in Redis
at once, so there is no overshoot; the window's end is read once per window and kept.
"""

from collections.abc import Iterable

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage

from app.ratelimits.quotas import Count, Quota

KEY_PREFIX = "iqt-ratelimits"


def limits_storage_url(redis_url: str) -> str:
    """``redis://...`` as the ``async+redis://...`` URL ``limits`` expects."""
    for plain in ("redis://", "rediss://", "redis+unix://"):
        if redis_url.startswith(plain):
            return "async+" + redis_url
    return redis_url


class RedisRateLimitStore:
    def __init__(self, redis_url: str) -> None:
        self.storage = RedisStorage(
            limits_storage_url(redis_url),
            implementation="coredis",
            key_prefix=KEY_PREFIX,
            # A Redis that does not answer must not hold requests up for long (they are then
            # served uncounted).
            connect_timeout=1.0,
            stream_timeout=1.0,
        )
        # Each key's window end, once read (valid until then: a key expires only at its end).
        self._ends: dict[str, float] = {}

    async def hit(self, key: str, quota: Quota, now: float) -> Count:
        item = RateLimitItemPerSecond(quota.amount, quota.window_seconds)
        counter = item.key_for(key)
        used = await self.storage.incr(counter, item.get_expiry())
        end = self._ends.get(counter)
        if used == 1 or end is None or end <= now:
            end = (
                now + quota.window_seconds if used == 1 else await self.storage.get_expiry(counter)
            )
            if len(self._ends) > 10_000:
                self._ends = {k: e for k, e in self._ends.items() if e > now}
            self._ends[counter] = end
        return Count(quota=quota, allowed=used <= quota.amount, used=used, reset_at=end)

    async def fold(self, keys: Iterable[str], now: float) -> None:
        """Nothing to share: every hit is already in Redis."""

    async def close(self) -> None:
        """The connection pool closes with the process."""
