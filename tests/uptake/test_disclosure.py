"""The NHS Digital method as pure functions: what a count is published as."""

from app.uptake.disclosure import Disclosure, controlled, percentage


def test_zero_stays_zero_and_counts_from_one_to_seven_are_withheld() -> None:
    assert controlled(0) == 0
    assert [controlled(n) for n in range(1, 8)] == [None] * 7


def test_every_other_count_is_rounded_to_the_nearest_five() -> None:
    assert [controlled(n) for n in range(8, 19)] == [10] * 5 + [15] * 5 + [20]
    assert controlled(16212) == 16210
    assert controlled(16213) == 16215


def test_percentages_come_from_the_published_figures_and_need_both() -> None:
    assert percentage(controlled(8), controlled(13)) == 66.7  # 10 of 15, not 8 of 13
    assert percentage(None, 15) is None
    assert percentage(10, None) is None
    assert percentage(0, 0) is None


def test_exact_disclosure_gives_the_count_itself() -> None:
    assert Disclosure(exact=True).figure(3) == 3
    assert Disclosure(exact=False).figure(3) is None
