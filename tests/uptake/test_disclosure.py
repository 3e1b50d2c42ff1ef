"""Primary and secondary suppression as a pure function."""

from app.uptake.disclosure import suppressed_cells


def test_counts_from_one_to_the_threshold_are_withheld_and_zero_is_not() -> None:
    table = {("a",): 0, ("b",): 3, ("c",): 4, ("d",): 5}
    assert suppressed_cells(table, 4) == {("b",), ("c",)}


def test_a_lone_withheld_cell_takes_the_smallest_other_non_zero_cell_with_it() -> None:
    table = {("a",): 2, ("b",): 0, ("c",): 9, ("d",): 7}
    assert suppressed_cells(table, 4) == {("a",), ("d",)}


def test_every_row_and_column_of_two_dimensions_holds_zero_or_several_withheld_cells() -> None:
    table = {
        ("x", "p"): 3, ("x", "q"): 10, ("x", "r"): 12,
        ("y", "p"): 20, ("y", "q"): 30, ("y", "r"): 40,
    }  # fmt: skip
    hidden = suppressed_cells(table, 4)
    assert ("x", "p") in hidden
    for fixed in range(2):
        for value in {key[fixed] for key in table}:
            line = [k for k in table if k[fixed] == value]
            assert sum(1 for k in line if k in hidden) != 1


def test_no_dimensions_is_primary_suppression_only() -> None:
    assert suppressed_cells({(): 3}, 4) == {()}
    assert suppressed_cells({(): 30}, 4) == set()
