"""Letting the database work on a write while the worker computes.

A request's statements run one after another on its connection, and most of a batch's time
is spent either in the worker (planning, building rows) or in the database (storing them),
rarely both at once. A write whose answer nothing needs yet, such as a batch's events, can be
sent before a stretch of pure computing and waited for after it: the database stores the rows
on the other core while the worker computes. Nothing else changes: the statement is in the
request's transaction, in the order it was sent, and its failure fails the request.

The overlap is PostgreSQL's: asyncpg sends a statement its connection has prepared before
(every one after a connection's first batch) in the task's first turn. A statement not yet
prepared there is only prepared by then, and on SQLite (aiosqlite's thread) nothing has
been sent: the write then simply runs after the body, as it would without this.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from app.core.logging import get_logger

T = TypeVar("T")

log = get_logger("iqt.meanwhile")


@contextlib.asynccontextmanager
async def written_meanwhile(write: Coroutine[Any, Any, T]) -> AsyncIterator["asyncio.Task[T]"]:
    """Sends ``write`` (statements on the session), runs the body, then waits for ``write``.
    The block gives the write's task: its ``result()`` once the block has ended.

    The body must not run statements on the session (it computes); the session is the
    write's until the block ends. If the body fails, or the request is cancelled before the
    body starts, the write is still waited for, so that no statement is left running on a
    connection the failure will roll back. (A cancellation while the write is waited for at
    the end cancels it, as it would cancel any statement awaited there.)
    """
    task = asyncio.ensure_future(write)
    try:
        # One turn of the event loop: the task runs until it waits for the database.
        await asyncio.sleep(0)
        yield task
    except BaseException:  # the body failed, or this request was cancelled
        try:
            await task
        except BaseException as error:
            log.warning("meanwhile.write_failed_too", error=type(error).__name__)
        raise
    await task
