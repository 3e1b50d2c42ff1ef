"""Staff batches as CSV: the documented columns, with UK dates (see app/core/batch_bodies.py)."""

import re
from typing import Any

from app.core.batch_bodies import BOOLEANS, read_csv_records

COLUMNS = (
    "employeeNumber",
    "givenName",
    "familyName",
    "workEmail",
    "organisation",
    "staffGroup",
    "jobTitle",
    "boardMember",
    "startDate",
    "endDate",
)
REQUIRED_COLUMNS = ("employeeNumber", "givenName", "familyName", "staffGroup", "startDate")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_staff_csv(body: bytes, max_records: int) -> list[dict[str, Any]]:
    """Records as the JSON batch would carry them; empty cells are left out."""
    return read_csv_records(
        body,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        max_records=max_records,
        convert=_convert,
    )


def _convert(name: str, value: str) -> Any:
    if name in ("startDate", "endDate"):
        match = _UK_DATE.match(value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    if name == "boardMember":
        return BOOLEANS.get(value.casefold(), value)
    return value
