"""Completion batches as CSV: the documented columns (see app/core/batch_bodies.py)."""

from typing import Any

from app.core.batch_bodies import BOOLEANS, read_csv_records

COLUMNS = (
    "externalId",
    "employeeNumber",
    "workEmail",
    "courseCode",
    "completedAt",
    "passed",
    "scoreScaled",
)
REQUIRED_COLUMNS = ("externalId", "courseCode", "completedAt")


def _convert(name: str, value: str) -> Any:
    if name == "passed":
        return BOOLEANS.get(value.casefold(), value)
    if name == "scoreScaled":
        try:
            return float(value)
        except ValueError:
            return value  # refused by the record's validation, which names the field
    return value


def parse_completion_csv(body: bytes, max_records: int) -> list[dict[str, object]]:
    """Records as the JSON batch would carry them; empty cells are left out."""
    return read_csv_records(
        body,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        max_records=max_records,
        convert=_convert,
    )
