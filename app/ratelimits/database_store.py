"""Counts shared through one database row per key, written in batches rather than per request.

A row per key holds the hits of its current fixed window, by all processes. Writing it on every
request would put a row-lock round trip on every request of a client, serialising them. Instead
each process decides locally, from the shared total it last read plus the hits it has admitted
since, and folds those hits into the row at most once per ``flush_seconds`` per key with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (which also tells it the others' hits).
Folding runs after the response, on a connection of its own, so no request transaction holds
the row (and SQLite's single writer is never waited for while holding it).

The cost is a bounded overshoot. A process learns of the others' hits only when it folds, so
within one window each process may admit, beyond the limit, what it admits between two of its
folds: at most one flush interval of its requests (and at least one request). With P processes
the overshoot is at most P x flush interval x the rate one process admits
(IQT_RATE_LIMIT_FLUSH_SECONDS, 0.2 s by default); one process alone never overshoots.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.logging import get_logger
from app.core.quotas import Count, Quota
from app.models import RateLimitWindow

# Rows of windows that ended this long ago are deleted, by each process at most this often.
_FORGET_AFTER_SECONDS = 3600
_PRUNE_EVERY_SECONDS = 600
# Keys kept in memory before ended windows are dropped.
_PRUNE_FROM_KEYS = 10_000

log = get_logger("iqt.ratelimits")


@dataclass
class _Window:
    start: int
    end: int
    # The row's total when this process last folded (its own folded hits included).
    shared: int = 0
    # Hits admitted here and not folded yet.
    pending: int = 0
    folded_at: float = -math.inf
    folding: bool = False


class DatabaseRateLimitStore:
    def __init__(self, engine: AsyncEngine, flush_seconds: float) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self._windows: dict[str, _Window] = {}
        self._pruned_at = -math.inf

    async def hit(self, key: str, quota: Quota, now: float) -> Count:
        start = quota.window_start(now)
        window = self._windows.get(key)
        if window is None or window.start != start:
            if len(self._windows) >= _PRUNE_FROM_KEYS:
                self._drop_ended(now)
            window = self._windows[key] = _Window(start, start + quota.window_seconds)
        used = window.shared + window.pending
        allowed = used < quota.amount
        if allowed:
            window.pending += 1
            used += 1
        return Count(quota=quota, allowed=allowed, used=used, reset_at=window.end)

    async def fold(self, keys: Iterable[str], now: float) -> None:
        for key in keys:
            window = self._windows.get(key)
            if (
                window is not None
                and window.pending
                and not window.folding
                and now - window.folded_at >= self.flush_seconds
            ):
                await self._fold(key, window, now)
        if now - self._pruned_at >= _PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            await self._delete_ended_rows(now)

    async def close(self) -> None:
        """Folds whatever is still pending (a process stopping)."""
        for key, window in list(self._windows.items()):
            if window.pending and not window.folding:
                await self._fold(key, window, -math.inf)

    async def _fold(self, key: str, window: _Window, now: float) -> None:
        hits = window.pending
        window.folding = True
        try:
            async with self.engine.begin() as connection:
                row = (
                    await connection.execute(
                        self._add_hits(connection.dialect.name, key, window, hits)
                    )
                ).one()
        except Exception as exc:  # keep counting locally; the next fold tries again
            log.warning("ratelimits.fold_failed", error=type(exc).__name__)
            return
        finally:
            window.folding = False
        window.pending -= hits
        window.folded_at = now
        if row.window_start == window.start:
            window.shared = row.hits

    @staticmethod
    def _add_hits(dialect: str, key: str, window: _Window, hits: int):  # type: ignore[no-untyped-def]
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = RateLimitWindow.__table__
        assert isinstance(table, Table)
        statement = insert(table).values(
            key=key, window_start=window.start, window_end=window.end, hits=hits
        )
        new = statement.excluded
        same = table.c.window_start == new.window_start
        newer = table.c.window_start < new.window_start
        return statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case(
                    (same, table.c.hits + new.hits), (newer, new.hits), else_=table.c.hits
                ),
                "window_start": case((newer, new.window_start), else_=table.c.window_start),
                "window_end": case((newer, new.window_end), else_=table.c.window_end),
            },
        ).returning(table.c.window_start, table.c.hits)

    async def _delete_ended_rows(self, now: float) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    delete(RateLimitWindow).where(
                        RateLimitWindow.window_end < int(now) - _FORGET_AFTER_SECONDS
                    )
                )
        except Exception as exc:
            log.warning("ratelimits.prune_failed", error=type(exc).__name__)

    def _drop_ended(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if w.end <= now and not w.folding]:
            del self._windows[key]
