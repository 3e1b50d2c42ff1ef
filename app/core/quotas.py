"""Quotas: how many requests a policy allows per fixed window, parsed from ``limits`` strings."""

import math
from dataclasses import dataclass
from functools import lru_cache

import limits


@dataclass(frozen=True)
class Quota:
    """A named policy: ``amount`` requests per window of ``window_seconds``."""

    policy: str
    amount: int
    window_seconds: int

    def window_start(self, now: float) -> int:
        """Windows are aligned to multiples of their length, so every process agrees on them."""
        return int(now // self.window_seconds) * self.window_seconds


@dataclass(frozen=True)
class Count:
    """One request counted against a quota: whether it is allowed, and what is left."""

    quota: Quota
    allowed: bool
    used: int
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(0, self.quota.amount - self.used)

    def seconds_to_reset(self, now: float) -> int:
        return max(1, math.ceil(self.reset_at - now))


@lru_cache(maxsize=256)
def parse_quota(policy: str, text: str) -> Quota:
    """``"1200/minute"``, ``"50 per 10 seconds"``, ... (the ``limits`` notation).

    Raises ValueError when the text is not a single rate limit.
    """
    items = limits.parse_many(text)
    if len(items) != 1:
        raise ValueError(f"expected one rate limit, got {text!r}")
    item = items[0]
    if item.amount < 1:
        raise ValueError(f"a rate limit allows at least one request, got {text!r}")
    return Quota(policy=policy, amount=item.amount, window_seconds=item.get_expiry())
