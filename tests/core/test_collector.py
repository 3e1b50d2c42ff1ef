"""After startup a service process freezes its long-lived objects and collects less often."""

import gc
from collections.abc import Iterator

import pytest

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
