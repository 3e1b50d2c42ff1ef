"""Uptake answers kept for a few seconds per process (``IQT_UPTAKE_CACHE_SECONDS``).

Dashboards ask the same questions many times a minute; each process answers a question from the
summary at most once per period, so a change shows everywhere within that many seconds. The key
holds everything that shapes an answer: the question, the day it is asked on (for the default
"today"), and what the caller may see (its organisations, and exact or controlled counts).
"""

from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from fastapi import Request

from app.auth.caller import Caller
from app.core.clock import today
from app.core.short_cache import ShortCache
from app.uptake.disclosure import Disclosure

T = TypeVar("T")

FRESHNESS = (
    " Figures are current: the summary they are read from changes in the same transaction as the "
    "staff record, completion or award that changes them. Each service process keeps an answer "
    "for a few seconds (`IQT_UPTAKE_CACHE_SECONDS`, default 2), so a change shows in every "
    "answer within that time."
)


def install(state: object, seconds: float) -> None:
    state.uptake_figures = ShortCache(seconds)  # type: ignore[attr-defined]


async def cached(
    request: Request,
    caller: Caller,
    question: tuple[Hashable, ...],
    compute: Callable[[], Awaitable[T]],
) -> T:
    view = (caller.organisations, Disclosure.for_caller(caller))
    cache: ShortCache = request.app.state.uptake_figures
    return await cache.get((question, today(), view), compute)
