"""Uptake answers kept for a few seconds per process (``IQT_UPTAKE_CACHE_SECONDS``), each with
how fresh its figures are.

Dashboards ask the same questions many times a minute; each process answers a question from the
summary at most once per period. The key holds everything that shapes an answer: the question,
the day it is asked on (for the default "today"), and what the caller may see (its
organisations, and exact or controlled counts). The freshness is read with the figures and kept
with them; the lag is worked out again each time the answer is served. An answer is computed in
a session of its own: it is shared by every request waiting for it, and outlives the one that
asked first if that one is cancelled.
"""

from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.caller import Caller
from app.core.clock import today, utcnow
from app.core.short_cache import ShortCache
from app.uptake.disclosure import Disclosure
from app.uptake.projection import Freshness, read_freshness
from app.uptake.schemas import UptakeFreshness

T = TypeVar("T")

FRESHNESS = (
    " The figures come from a summary brought up to date in the background after each change "
    "of staff records, completions or awards, usually within a few seconds: `freshness` (and "
    "the `IQT-Uptake-Up-To` and `IQT-Uptake-Lag-Seconds` headers, CSV answers too) say up to "
    "when every change is counted and how many seconds behind the answer that is. Each "
    "service process also keeps an answer for a few seconds (`IQT_UPTAKE_CACHE_SECONDS`)."
)
KEPT = (
    " Each service process keeps an answer for a few seconds (`IQT_UPTAKE_CACHE_SECONDS`), so "
    "a change shows in every answer within that time."
)
UP_TO_HEADER = "IQT-Uptake-Up-To"
LAG_HEADER = "IQT-Uptake-Lag-Seconds"
FRESHNESS_HEADERS = {
    UP_TO_HEADER: {
        "description": "Every change committed before this instant (RFC 3339) is counted.",
        "schema": {"type": "string", "format": "date-time", "maxLength": 40},
    },
    LAG_HEADER: {
        "description": "How many seconds the figures are behind the time of this answer.",
        "schema": {"type": "number", "minimum": 0},
    },
}


def install(state: object, seconds: float) -> None:
    state.uptake_figures = ShortCache(seconds)  # type: ignore[attr-defined]


async def cached(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    question: tuple[Hashable, ...],
    compute: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """The kept answer to ``question`` for what ``caller`` may see, or ``compute``'s, handed a
    session of its own. The request's ``session`` has only read who the caller is: its
    transaction ends first, or it would hold, while waiting, a connection it no longer needs
    (and on SQLite the write lock every transaction takes, which the computation waits for)."""
    if session.in_transaction():
        await session.commit()
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker

    async def in_own_session() -> T:
        async with sessionmaker() as session:
            return await compute(session)

    view = (caller.organisations, Disclosure.for_caller(caller))
    cache: ShortCache = request.app.state.uptake_figures
    return await cache.get((question, today(), view), in_own_session)


async def cached_figures(
    request: Request,
    caller: Caller,
    session: AsyncSession,
    question: tuple[Hashable, ...],
    compute: Callable[[AsyncSession, UptakeFreshness], Awaitable[T]],
) -> tuple[T, UptakeFreshness]:
    """An answer from the summary (kept as ``cached`` keeps it) and its freshness as of now.
    ``compute`` is handed the session and the freshness read just before the figures."""

    async def read(session: AsyncSession) -> tuple[T, Freshness]:
        freshness = await read_freshness(session)
        return await compute(session, served(freshness)), freshness

    answer, freshness = await cached(request, caller, session, question, read)
    return answer, served(freshness)


def served(freshness: Freshness) -> UptakeFreshness:
    return UptakeFreshness(up_to=freshness.up_to, lag_seconds=freshness.lag_seconds(utcnow()))


def stamp(response: Response, freshness: UptakeFreshness) -> Response:
    """The freshness headers on an answer (JSON or CSV)."""
    response.headers[UP_TO_HEADER] = freshness.up_to.isoformat()
    response.headers[LAG_HEADER] = str(freshness.lag_seconds)
    return response
