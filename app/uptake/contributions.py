"""What one person contributes to the uptake summary: a pure function of their facts.

A person counts in a cell (organisation, staff group, board member) on day D when they have
started and not left (start date <= D <= end date) and their dated history puts them in that
cell on D. They count as holding at least a level on D when an award of that level or higher
was granted on or before D (UK date) and was not revoked on or before D. Their contribution is a
set of dated deltas: +1 on the first day a count applies, -1 on the first day it no longer does.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

LEVEL_RANK = {"bronze": 0, "silver": 1, "gold": 2}
# The measures, in the order of a Counts tuple.
MEASURES = ("headcount", "bronze", "silver", "gold")


class Cell(NamedTuple):
    """A tuple, so that hashing and comparing the many cells of a batch stays cheap."""

    organisation: str
    staff_group: str
    board_member: bool


class Cells(dict[tuple[str, str, bool], Cell]):
    """Each cell made once: the people of a batch share a few hundred of them."""

    def of(self, organisation: str, staff_group: str, board_member: bool) -> Cell:
        key = (organisation, staff_group, board_member)
        cell = self.get(key)
        if cell is None:
            cell = self[key] = Cell(organisation, staff_group, board_member)
        return cell


class Period(NamedTuple):
    """Where the person was from ``valid_from`` until (not including) ``valid_to``."""

    valid_from: date
    valid_to: date | None
    cell: Cell


class AwardSpan(NamedTuple):
    """An award held from ``granted_on`` until (not including) ``revoked_on``."""

    level: str
    granted_on: date
    revoked_on: date | None


class PersonFacts(NamedTuple):
    """Tuples, as the cells are: a staff batch builds one for each person it creates."""

    staff_id: int
    start_date: date
    end_date: date | None
    current_cell: Cell
    periods: Sequence[Period]
    awards: Sequence[AwardSpan]


Counts = tuple[int, int, int, int]
Deltas = dict[tuple[date, Cell], Counts]


def add(a: Counts, b: Counts) -> Counts:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


Span = tuple[date, date | None]  # [start, end); None: open


def _intersect(a: Span, b: Span) -> Span | None:
    start = max(a[0], b[0])
    ends = [e for e in (a[1], b[1]) if e is not None]
    end = min(ends) if ends else None
    return (start, end) if end is None or start < end else None


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans, key=lambda s: s[0]):
        if end is not None and end <= start:
            continue
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (
                last_start,
                None if last_end is None or end is None else max(last_end, end),
            )
        else:
            merged.append((start, end))
    return merged


def _segments(facts: PersonFacts) -> list[tuple[Span, Cell]]:
    """The cells the person counts in, each over the days it applies while employed."""
    employed: Span = (
        facts.start_date,
        None if facts.end_date is None else facts.end_date + timedelta(days=1),
    )
    periods = sorted(facts.periods, key=lambda p: p.valid_from)
    if not periods:
        periods = [Period(facts.start_date, None, facts.current_cell)]
    # The first period reaches back to the start date, whatever HR sent first.
    first = periods[0]
    if first.valid_from > facts.start_date:
        periods[0] = Period(facts.start_date, first.valid_to, first.cell)
    segments = []
    for period in periods:
        span = _intersect((period.valid_from, period.valid_to), employed)
        if span is not None:
            segments.append((span, period.cell))
    return segments


def _add(deltas: dict[tuple[date, Cell], list[int]], span: Span, cell: Cell, index: int) -> None:
    deltas.setdefault((span[0], cell), [0, 0, 0, 0])[index] += 1
    if span[1] is not None:
        deltas.setdefault((span[1], cell), [0, 0, 0, 0])[index] -= 1


def person_deltas(facts: PersonFacts) -> Deltas:
    """The person's dated deltas by (day, cell); entries that cancel out are left out."""
    if len(facts.periods) == 1 and facts.periods[0].valid_to is None:
        if not facts.awards:
            return _headcount_only(facts.start_date, facts.end_date, facts.periods[0].cell)
        deltas = _one_place_awards_kept(facts)
        if deltas is not None:
            return deltas
    return _deltas_of_segments(facts)


def _headcount_only(start: date, end: date | None, cell: Cell) -> Deltas:
    """``_deltas_of_segments`` for one open period and no awards (most people, and everyone a
    staff batch creates), without building the segments: counted from the start date (the
    period reaches back to it) until the day after the end date."""
    stops = None if end is None else end + timedelta(days=1)
    if stops is not None and stops <= start:
        return {}
    deltas: Deltas = {(start, cell): (1, 0, 0, 0)}
    if stops is not None:
        deltas[(stops, cell)] = (-1, 0, 0, 0)
    return deltas


def _one_place_awards_kept(facts: PersonFacts) -> Deltas | None:
    """``_deltas_of_segments`` for one open period and awards none of which was revoked (most
    people an award is granted to), without building spans: each level counts from the first
    grant of it or a higher level (or the start date, if later) until the day after the end
    date. None when an award was revoked."""
    first: list[date | None] = [None, None, None]  # the first day each level is held
    for award in facts.awards:
        if award.revoked_on is not None:
            return None
        granted = award.granted_on
        for rank in range(LEVEL_RANK[award.level] + 1):
            held = first[rank]
            if held is None or granted < held:
                first[rank] = granted
    cell = facts.periods[0].cell
    start, end = facts.start_date, facts.end_date
    stops = None if end is None else end + timedelta(days=1)
    if stops is not None and stops <= start:
        return {}
    by_day: dict[date, list[int]] = {start: [1, 0, 0, 0]}
    ending = [-1, 0, 0, 0]
    for rank, day in enumerate(first):
        if day is None:
            break
        since = day if day > start else start
        if stops is not None and since >= stops:
            continue
        counts = by_day.get(since)
        if counts is None:
            counts = by_day[since] = [0, 0, 0, 0]
        counts[rank + 1] += 1
        ending[rank + 1] = -1
    if stops is not None:  # every count began before it and ends on it
        by_day[stops] = ending
    return {(day, cell): (v[0], v[1], v[2], v[3]) for day, v in by_day.items()}


def _deltas_of_segments(facts: PersonFacts) -> Deltas:
    deltas: dict[tuple[date, Cell], list[int]] = {}
    segments = _segments(facts)
    holding = [
        _union((a.granted_on, a.revoked_on) for a in facts.awards if LEVEL_RANK[a.level] >= rank)
        for rank in range(3)
        if facts.awards
    ]
    for span, cell in segments:
        _add(deltas, span, cell, 0)
        for rank, held in enumerate(holding):
            for award_span in held:
                overlap = _intersect(span, award_span)
                if overlap is not None:
                    _add(deltas, overlap, cell, rank + 1)
    return {key: (v[0], v[1], v[2], v[3]) for key, v in deltas.items() if any(v)}


def difference(new: Deltas, old: Deltas) -> Deltas:
    """new - old, by key, without the entries that come to zero."""
    result: Deltas = {}
    for key, a in new.items():
        b = old.get(key)
        if b is None:
            if any(a):
                result[key] = a
        elif a != b:
            result[key] = (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])
    for key, b in old.items():
        if key not in new and any(b):
            result[key] = (-b[0], -b[1], -b[2], -b[3])
    return result
