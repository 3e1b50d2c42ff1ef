"""Counts shared through Redis (``IQT_REDIS_URL``): one counter per key and fixed window.

A hit is one Lua script, which Redis runs whole or not at all: it increments the counter,
gives it an expiry of one window when it has none (the first hit, or a counter left without
one by an older version), and answers the count with the time left. Sent as two commands, a
process or connection lost between the increment and the expiry would leave a counter that
never resets, and a client locked out for ever. Every request is counted in Redis at once,
so there is no overshoot.
"""

from collections.abc import Iterable

import coredis
from limits import RateLimitItemPerSecond

from app.core.quotas import Count, Quota

KEY_PREFIX = "iqt-ratelimits"

# KEYS[1]: the counter; ARGV[1]: the window in milliseconds. Answers {count, ms to expiry}.
_HIT = """
local used = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
    left = tonumber(ARGV[1])
    redis.call('PEXPIRE', KEYS[1], left)
end
return {used, left}
"""


class RedisRateLimitStore:
    def __init__(self, redis_url: str) -> None:
        self.redis: coredis.Redis[bytes] = coredis.Redis.from_url(
            redis_url,
            # A Redis that does not answer must not hold requests up for long (they are then
            # served uncounted).
            connect_timeout=1.0,
            stream_timeout=1.0,
        )
        self._hit = self.redis.register_script(_HIT)

    async def hit(self, key: str, quota: Quota, now: float) -> Count:
        item = RateLimitItemPerSecond(quota.amount, quota.window_seconds)
        counter = f"{KEY_PREFIX}:{item.key_for(key)}"
        answer = await self._hit.execute(keys=[counter], args=[quota.window_seconds * 1000])
        assert isinstance(answer, list), answer
        used, left_ms = (int(value) for value in answer)
        return Count(
            quota=quota, allowed=used <= quota.amount, used=used, reset_at=now + left_ms / 1000
        )

    async def fold(self, keys: Iterable[str], now: float) -> None:
        """Nothing to share: every hit is already in Redis."""

    async def close(self) -> None:
        """The connection pool closes with the process."""
