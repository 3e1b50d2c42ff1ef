"""Statistical disclosure control for breakdowns shown to callers without ``staff:read``.

Primary suppression: a count from 1 to the threshold is withheld. Secondary suppression: a
breakdown's totals along each dimension can be had from another query (fewer dimensions, the
same filters), so a line of the table (the cells that differ in one dimension only) must never
hold exactly one withheld cell; while one does, the smallest other count in that line (a non-zero
one if there is one) is withheld too. Each measure (headcount, at least Bronze, ...) is a table
of its own. A percentage is withheld with its count or its headcount.
"""

from collections.abc import Hashable, Mapping
from typing import TypeVar

Key = TypeVar("Key", bound=tuple[Hashable, ...])

DESCRIPTION = (
    "**Disclosure control.** For a client without `staff:read`, any count from 1 to the "
    "configured threshold (`IQT_UPTAKE_SUPPRESSION_THRESHOLD`, default 4) is answered as `null` "
    "and the row says `suppressed: true` (primary suppression). So that a withheld count cannot "
    "be recovered by subtracting the other cells from a total another query gives, every line "
    "of the breakdown (the cells differing in one `groupBy` dimension only, or all rows for a "
    "single dimension) holding exactly one withheld count has its smallest other count withheld "
    "as well, a non-zero one where possible (secondary suppression). Each measure is treated "
    "as a table of its own; a percentage is withheld with its count or its headcount. Clients "
    "with `staff:read` see exact counts."
)


def suppressed_cells(table: Mapping[Key, int], threshold: int) -> set[Key]:
    """The keys whose counts must be withheld in this table (all keys of one length)."""
    hidden = {key for key, value in table.items() if 1 <= value <= threshold}
    if not hidden or not table:
        return hidden
    dimensions = len(next(iter(table)))
    lines: list[list[Key]] = []
    for axis in range(dimensions):
        grouped: dict[tuple[Hashable, ...], list[Key]] = {}
        for key in table:
            grouped.setdefault(key[:axis] + key[axis + 1 :], []).append(key)
        lines.extend(grouped.values())
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for key in line if key in hidden) != 1:
                continue
            others = [key for key in line if key not in hidden]
            if not others:
                continue
            partner = min(others, key=lambda k: (table[k] == 0, table[k], repr(k)))
            hidden.add(partner)
            changed = True
    return hidden
