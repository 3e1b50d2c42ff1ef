"""The RateLimit headers on every counted answer, and the shared counts folded afterwards.

Header fields of draft-ietf-httpapi-ratelimit-headers (-10): ``RateLimit-Policy`` names the
policy with its quota ``q`` and window ``w`` (seconds); ``RateLimit`` gives what remains ``r``
and the seconds ``t`` until the window resets, e.g.
``RateLimit-Policy: "default";q=1200;w=60`` and ``RateLimit: "default";r=17;t=42``.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.quotas import Count
from app.ratelimits.service import RateLimiter, RateLimitOutcome


def rate_limit_headers(count: Count, now: float) -> list[tuple[bytes, bytes]]:
    quota = count.quota
    reset = count.seconds_to_reset(now)
    return [
        (
            b"ratelimit-policy",
            f'"{quota.policy}";q={quota.amount};w={quota.window_seconds}'.encode(),
        ),
        (b"ratelimit", f'"{quota.policy}";r={count.remaining};t={reset}'.encode()),
    ]


class RateLimitMiddleware:
    """Adds the headers of the request's tightest count; then folds its counts (outside the
    request's own transaction, which has ended by then)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome = scope.get("state", {}).get("rate_limit")
                if isinstance(outcome, RateLimitOutcome) and outcome.tightest is not None:
                    headers = rate_limit_headers(outcome.tightest, self.limiter.clock())
                    message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            outcome = scope.get("state", {}).get("rate_limit")
            if isinstance(outcome, RateLimitOutcome):
                await self.limiter.fold(outcome)
