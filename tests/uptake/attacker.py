"""What a dashboard builder can infer from published figures, reading the documented method:
0 is exactly 0, a withheld figure (null) is 1 to 7, any other figure F is F-2 to F+2 (and 8 at
least). Written from the contract's description, not from the service's code."""

WITHHELD = range(1, 8)


def possible_counts(figure: int | None) -> range:
    """The exact counts that the method publishes as this figure."""
    if figure is None:
        return WITHHELD
    if figure == 0:
        return range(0, 1)
    return range(max(figure - 2, 8), figure + 3)


def left_over(total: int | None, parts: list[int | None]) -> set[int]:
    """The values of one more part consistent with a total and the other parts as published."""
    values = set(possible_counts(total))
    for part in parts:
        values = {v - p for v in values for p in possible_counts(part)}
    return values
