"""The pure contribution of one person: dated deltas, no database."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from app.uptake.contributions import (
    AwardSpan,
    Cell,
    Period,
    PersonFacts,
    _deltas_of_segments,
    difference,
    person_deltas,
)

A = Cell("7A4", "03", False)
B = Cell("7A6", "03", False)


def facts(**overrides: object) -> PersonFacts:
    values: dict[str, object] = {
        "staff_id": 1,
        "start_date": date(2020, 1, 1),
        "end_date": None,
        "current_cell": A,
        "periods": [Period(date(2020, 1, 1), None, A)],
        "awards": [],
    }
    values.update(overrides)
    return PersonFacts(**values)  # type: ignore[arg-type]


def test_a_starter_counts_from_the_start_date() -> None:
    assert person_deltas(facts()) == {(date(2020, 1, 1), A): (1, 0, 0, 0)}


def test_a_leaver_stops_counting_the_day_after_the_end_date() -> None:
    deltas = person_deltas(facts(end_date=date(2021, 5, 31)))
    assert deltas[(date(2021, 6, 1), A)] == (-1, 0, 0, 0)


def test_a_mover_takes_headcount_and_awards_to_the_new_cell_on_the_move_date() -> None:
    moved = facts(
        periods=[Period(date(2020, 1, 1), date(2022, 3, 1), A), Period(date(2022, 3, 1), None, B)],
        awards=[AwardSpan("silver", date(2021, 1, 1), None)],
    )
    assert person_deltas(moved) == {
        (date(2020, 1, 1), A): (1, 0, 0, 0),
        (date(2021, 1, 1), A): (0, 1, 1, 0),
        (date(2022, 3, 1), A): (-1, -1, -1, 0),
        (date(2022, 3, 1), B): (1, 1, 1, 0),
    }


def test_an_award_before_the_start_date_counts_from_the_start_date() -> None:
    deltas = person_deltas(facts(awards=[AwardSpan("bronze", date(2018, 1, 1), None)]))
    assert deltas == {(date(2020, 1, 1), A): (1, 1, 0, 0)}


def test_a_revoked_award_stops_on_its_revocation_day_and_overlaps_merge() -> None:
    awards = [
        AwardSpan("bronze", date(2021, 1, 1), date(2021, 6, 1)),
        AwardSpan("silver", date(2021, 3, 1), date(2021, 9, 1)),
    ]
    deltas = person_deltas(facts(awards=awards))
    assert deltas[(date(2021, 1, 1), A)] == (0, 1, 0, 0)
    assert deltas[(date(2021, 3, 1), A)] == (0, 0, 1, 0)
    assert (date(2021, 6, 1), A) not in deltas
    assert deltas[(date(2021, 9, 1), A)] == (0, -1, -1, 0)


def test_history_starting_after_the_start_date_reaches_back_to_it() -> None:
    late = facts(periods=[Period(date(2020, 6, 1), None, B)])
    assert person_deltas(late) == {(date(2020, 1, 1), B): (1, 0, 0, 0)}


def test_difference_leaves_out_what_cancels() -> None:
    old = person_deltas(facts())
    new = person_deltas(facts(end_date=date(2020, 12, 31)))
    assert difference(new, old) == {(date(2021, 1, 1), A): (-1, 0, 0, 0)}
    assert difference(old, old) == {}


@settings(deadline=None)  # no per-example deadline: a busy machine is not a failure
@given(
    start=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    end=st.none() | st.dates(date(1999, 12, 1), date(2031, 1, 31)),
    valid_from=st.dates(date(1999, 1, 1), date(2032, 1, 1)),
    cell=st.sampled_from([A, B, Cell("7A1", "08", True)]),
)
def test_one_open_period_without_awards_gives_what_the_segments_give(
    start: date, end: date | None, valid_from: date, cell: Cell
) -> None:
    person = facts(
        start_date=start, end_date=end, current_cell=cell, periods=[Period(valid_from, None, cell)]
    )
    assert person_deltas(person) == _deltas_of_segments(person)


@settings(deadline=None)  # no per-example deadline: a busy machine is not a failure
@given(
    start=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    end=st.none() | st.dates(date(1999, 12, 1), date(2031, 1, 31)),
    valid_from=st.dates(date(1999, 1, 1), date(2032, 1, 1)),
    cell=st.sampled_from([A, B, Cell("7A1", "08", True)]),
    awards=st.lists(
        st.builds(
            AwardSpan,
            st.sampled_from(["bronze", "silver", "gold"]),
            st.dates(date(1999, 1, 1), date(2032, 1, 1)),
            st.none(),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_one_open_period_with_awards_kept_gives_what_the_segments_give(
    start: date, end: date | None, valid_from: date, cell: Cell, awards: list[AwardSpan]
) -> None:
    person = facts(
        start_date=start,
        end_date=end,
        current_cell=cell,
        periods=[Period(valid_from, None, cell)],
        awards=awards,
    )
    assert person_deltas(person) == _deltas_of_segments(person)
