"""Rate limiting of API requests: one quota per client, a stricter one for token requests,
and one per address for the public requests that make the service work.

``enforce_rate_limit`` counts an authenticated request against its client's quota (its own
override, else ``IQT_RATE_LIMIT``); ``enforce_token_rate_limit`` counts a token request against
``IQT_TOKEN_RATE_LIMIT`` twice, by client id and by address, the credential-guessing surface;
``enforce_public_rate_limit`` counts an unauthenticated request (a credential verified, a status
list built) against ``IQT_PUBLIC_RATE_LIMIT`` by address, so that no one can keep the service
checking signatures for free.
Over a quota the request is refused with a 429 problem. What was counted is left on
``request.state.rate_limit`` for the middleware to answer with the RateLimit headers. When the
store cannot be reached (Redis down) requests are served uncounted, and a warning is logged.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.logging import get_logger
from app.core.problems import ProblemError
from app.core.quotas import Count, Quota, parse_quota
from app.core.settings import Settings
from app.ratelimits.database_store import DatabaseRateLimitStore
from app.ratelimits.redis_store import RedisRateLimitStore
from app.ratelimits.stores import RateLimitStore

log = get_logger("iqt.ratelimits")

CLIENT_POLICY = "default"
TOKEN_POLICY = "token"  # noqa: S105 - a policy name
PUBLIC_POLICY = "public"


class RateLimited(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class RateLimitedClient(Protocol):
    @property
    def client_id(self) -> str: ...

    @property
    def rate_limit(self) -> str | None: ...


@dataclass
class RateLimitOutcome:
    """What one request was counted against: the keys, and the count closest to its limit."""

    keys: list[str] = field(default_factory=list)
    tightest: Count | None = None

    def add(self, key: str, count: Count) -> None:
        self.keys.append(key)
        if self.tightest is None or (not count.allowed, -count.remaining) > (
            not self.tightest.allowed,
            -self.tightest.remaining,
        ):
            self.tightest = count


class RateLimiter:
    def __init__(
        self,
        store: RateLimitStore,
        client_quota: Quota,
        token_quota: Quota,
        public_quota: Quota,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.client_quota = client_quota
        self.token_quota = token_quota
        self.public_quota = public_quota
        self.clock = clock

    def quota_for(self, client: RateLimitedClient) -> Quota:
        if client.rate_limit:
            return parse_quota(CLIENT_POLICY, client.rate_limit)
        return self.client_quota

    async def count(self, request: Request, counted: list[tuple[str, Quota]]) -> None:
        now = self.clock()
        outcome: RateLimitOutcome = getattr(request.state, "rate_limit", None) or RateLimitOutcome()
        request.state.rate_limit = outcome
        for key, quota in counted:
            if key in outcome.keys:  # authenticated twice in one request: counted once
                continue
            try:
                count = await self.store.hit(key, quota, now)
            except Exception as exc:  # the store is down: serve, uncounted, rather than fail
                log.warning("ratelimits.store_unavailable", error=type(exc).__name__)
                continue
            outcome.add(key, count)
        refused = outcome.tightest
        if refused is not None and not refused.allowed:
            raise RateLimited(
                f"More than {refused.quota.amount} requests in {refused.quota.window_seconds} "
                "seconds; retry after the number of seconds in Retry-After.",
                headers={"Retry-After": str(refused.seconds_to_reset(now))},
            )

    async def fold(self, outcome: RateLimitOutcome) -> None:
        await self.store.fold(outcome.keys, self.clock())


def create_rate_limiter(settings: Settings, engine: AsyncEngine) -> RateLimiter:
    store: RateLimitStore = (
        RedisRateLimitStore(settings.redis_url)
        if settings.redis_url
        else DatabaseRateLimitStore(engine, settings.rate_limit_flush_seconds)
    )
    return RateLimiter(
        store,
        client_quota=parse_quota(CLIENT_POLICY, settings.rate_limit),
        token_quota=parse_quota(TOKEN_POLICY, settings.token_rate_limit),
        public_quota=parse_quota(PUBLIC_POLICY, settings.public_rate_limit),
    )


async def enforce_rate_limit(request: Request, client: RateLimitedClient) -> None:
    """Counts an authenticated request against its client's quota; 429 when it is used up."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.count(request, [(f"client:{client.client_id}", limiter.quota_for(client))])


async def enforce_token_rate_limit(request: Request, client_id: str) -> None:
    """Counts a token request by client id and by address; 429 when either is used up."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.count(
        request,
        [
            (f"token-client:{_bounded(client_id)}", limiter.token_quota),
            (f"token-address:{_address(request)}", limiter.token_quota),
        ],
    )


async def enforce_public_rate_limit(request: Request) -> None:
    """Counts an unauthenticated request that makes the service work, by address; 429 when
    the address has used its quota up."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.count(request, [(f"public-address:{_address(request)}", limiter.public_quota)])


def _address(request: Request) -> str:
    """The TCP peer, or the address a trusted proxy names (IQT_FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def _bounded(identifier: str) -> str:
    """Client ids sent to the token endpoint are the caller's choice: long ones are hashed."""
    if len(identifier) <= 100:
        return identifier
    return "sha256:" + hashlib.sha256(identifier.encode()).hexdigest()
