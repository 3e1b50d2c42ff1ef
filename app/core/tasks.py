"""Stopping a background task for sure.

On Python 3.11 ``asyncio.wait_for`` returns its result instead of raising CancelledError when
what it awaits finishes in the same loop iteration as the cancel (CPython gh-86296, fixed in
3.12). A loop built on it can miss a cancel and run on, and whoever then awaits the task waits
for ever: a process whose shutdown never ends. ``stop_task`` cancels again until it has ended.
"""

import asyncio
from typing import Any

# How long a cancelled task may take to end before it is cancelled again.
RECANCEL_SECONDS = 0.1


async def stop_task(task: "asyncio.Task[Any]") -> None:
    """Cancels ``task`` until it has ended; what it ended with is dropped (it was stopped)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
