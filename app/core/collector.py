"""Python's garbage collector tuned for a long-running service process.

A process starts with hundreds of thousands of long-lived objects (FastAPI's routes and models,
SQLAlchemy's mappers, Pydantic's validators). Every full collection walks all of them, pausing
every request that process holds for tens of milliseconds: under load that pause is the slowest
1% of answers. Once started, the process freezes what it has (``gc.freeze``: those objects are
never collected, and were never going to be) and collects the young generation less often.
"""

import gc

# Allocations (net) between young-generation collections; Python's default is 700 (2,000 on
# 3.13+). Request garbage is mostly freed by reference counting, not by the collector.
YOUNG_THRESHOLD = 20_000


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
