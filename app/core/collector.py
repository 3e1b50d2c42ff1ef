"""Python's garbage collector tuned for a long-running service process, and paused for batches.

A process starts with hundreds of thousands of long-lived objects (FastAPI's routes and models,
SQLAlchemy's mappers, Pydantic's validators). Every full collection walks all of them, pausing
every request that process holds for tens of milliseconds: under load that pause is the slowest
1% of answers. Once started, the process freezes what it has (``gc.freeze``: those objects are
never collected, and were never going to be) and collects the young generation less often.
"""

import contextlib
import gc
import time
from collections.abc import Iterator

# Allocations (net) between young-generation collections; Python's default is 700 (2,000 on
# 3.13+). Request garbage is mostly freed by reference counting, not by the collector.
YOUNG_THRESHOLD = 20_000


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


# Batches under way in this process with collections paused, whether to resume them, and
# since when the young generation has not been collected.
_paused_by = 0
_resume = False
_uncollected_since = 0.0
# Batches that overlap without end (a steady stream of them in one process) still have what
# only a collection frees collected this often.
MOST_SECONDS_UNCOLLECTED = 10.0


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collections while a batch is read and written.

    A 10,000-record batch builds a few hundred thousand objects that live until it is
    answered. Each young collection walks those made since the last and finds them all alive;
    two dozen such walks and the occasional full one cost a large batch a noticeable share of
    its time (bench/README.md). Reference counting still frees what the batch drops; what only a
    collection can free waits until the last batch under way in the process ends (other
    requests run meanwhile, with collections paused for them too), or, when batches keep
    overlapping, until one ends ``MOST_SECONDS_UNCOLLECTED`` after the last collection.
    """
    global _paused_by, _resume, _uncollected_since
    if _paused_by == 0:
        _resume = gc.isenabled()
        _uncollected_since = time.monotonic()
        gc.disable()
    _paused_by += 1
    try:
        yield
    finally:
        _paused_by -= 1
        if _paused_by == 0:
            if _resume:
                gc.enable()
        elif time.monotonic() - _uncollected_since > MOST_SECONDS_UNCOLLECTED:
            # Everything made since the pause began is still in the young generation.
            gc.collect(0)
            _uncollected_since = time.monotonic()
