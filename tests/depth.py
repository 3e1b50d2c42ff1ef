"""How deep the property and fuzz tests go: ``IQT_TEST_DEPTH=deep`` (``make test-deep``) runs
them at full depth with fresh random examples; the default run takes a fixed-seed slice of
them, so it stays fast and gives the same cases every time."""

import os

from hypothesis import settings

NAME = "deep" if os.environ.get("IQT_TEST_DEPTH", "").lower() == "deep" else "default"
DEEP = NAME == "deep"
# The default run's share of each test's full number of examples.
SLICE = 5


def examples(full: int) -> int:
    """The examples a property test runs: ``full`` at depth, a fifth (at least 5) otherwise."""
    return full if DEEP else max(5, full // SLICE)


def load_hypothesis_profile() -> None:
    """Every property test says how many examples it needs (``examples``); the profile says
    whether they are drawn afresh (deep) or from a fixed seed (default)."""
    settings.register_profile("deep", deadline=None)
    settings.register_profile("default", deadline=None, derandomize=True, database=None)
    settings.load_profile(NAME)
