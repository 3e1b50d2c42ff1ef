"""Statistical disclosure control by the NHS Digital method (HES and ECDS outputs since 2018).

Every count of individuals given to a caller without ``staff:read`` is controlled on its own,
from its exact value: 0 stays 0, 1 to 7 is withheld, anything else is rounded to the nearest 5.
A total or subtotal is its exact value controlled, never a sum of controlled cells. A percentage
is computed from the controlled count and the controlled headcount, and withheld when either is.
There is no secondary suppression: it holds within one answer only, and subtracting the figures
of other answers (other filters, groupings, dates) undoes it.
"""

from dataclasses import dataclass

from app.auth.caller import Caller
from app.auth.scopes import Scope

SUPPRESSED_UP_TO = 7
ROUNDING_BASE = 5

DESCRIPTION = (
    "**Disclosure control** (the NHS Digital method for HES and ECDS outputs). For a client "
    "without `staff:read` every count is controlled on its own: 0 is given as 0; a count from 1 "
    "to 7 is withheld (`null`, and the row says `suppressed: true`); every other count is "
    "rounded to the nearest 5, so a figure of 10 means 8 to 12 and 15 means 13 to 17. A total "
    "or subtotal (a row of a coarser grouping, or a query with fewer filters) is the exact "
    "total rounded, not the sum of the rounded rows, so rows need not add up to it. A "
    "percentage is computed from the rounded count and the rounded headcount, and is `null` "
    "when either is withheld. The same figure is given for the same group on the same date by "
    "every operation, filter, grouping and format. Clients with `staff:read` get exact counts."
)


def controlled(count: int) -> int | None:
    """The figure published for an exact count: 0, withheld (None), or rounded to 5."""
    if count == 0:
        return 0
    if count <= SUPPRESSED_UP_TO:
        return None
    return (count + ROUNDING_BASE // 2) // ROUNDING_BASE * ROUNDING_BASE


def percentage(count: int | None, headcount: int | None) -> float | None:
    """Of the headcount, to one decimal; from the figures as published."""
    if count is None or not headcount:
        return None
    return round(100 * count / headcount, 1)


@dataclass(frozen=True)
class Disclosure:
    """Whether a caller gets exact counts (``staff:read``) or controlled ones."""

    exact: bool

    @classmethod
    def for_caller(cls, caller: Caller) -> "Disclosure":
        return cls(caller.has_scope(Scope.STAFF_READ))

    def figure(self, count: int) -> int | None:
        return count if self.exact else controlled(count)
