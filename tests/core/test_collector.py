"""After startup a service process freezes its long-lived objects and collects less often."""

import gc
from collections.abc import Iterator

import pytest

from app.core import collector
from app.core.collector import YOUNG_THRESHOLD, collections_paused, settle_after_startup


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_what_exists_and_raises_the_young_threshold() -> None:
    settle_after_startup()

    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


def test_collections_are_paused_until_the_last_overlapping_batch_ends() -> None:
    assert gc.isenabled()
    first, second = collections_paused(), collections_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second batch is still under way
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_failing_batch_resumes_collections() -> None:
    with pytest.raises(ZeroDivisionError), collections_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_collections_paused_before_stay_paused() -> None:
    gc.disable()
    try:
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_batches_that_keep_overlapping_still_collect_now_and_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    clock = [1000.0]
    monkeypatch.setattr(collector.time, "monotonic", lambda: clock[0])
    first = collections_paused()
    first.__enter__()
    for _ in range(3):  # each batch ends while the next is under way
        following = collections_paused()
        following.__enter__()
        first.__exit__(None, None, None)
        first = following
        clock[0] += collector.MOST_SECONDS_UNCOLLECTED / 2 + 0.1
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert gc.isenabled()
    assert collected == [0]  # once, some ten seconds in
