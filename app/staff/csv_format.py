"""Staff batches as CSV: the documented columns (app/staff/fields.py), with UK dates (see
app/core/batch_bodies.py)."""

import re
from typing import Any

from app.core.batch_bodies import BOOLEANS, read_csv_records
from app.staff.fields import FIELDS, CsvValue

COLUMNS = tuple(f.header for f in FIELDS)
REQUIRED_COLUMNS = tuple(f.header for f in FIELDS if f.csv_required)
_READ_AS = {f.header: f.csv for f in FIELDS}
# JSON name of each CSV column whose header is not its JSON name.
_RENAMED = {f.header: f.wire for f in FIELDS if f.header != f.wire}
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_staff_csv(body: bytes, max_records: int) -> list[dict[str, Any]]:
    """Records as the JSON batch would carry them; empty cells are left out."""
    records = read_csv_records(
        body,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        max_records=max_records,
        convert=_convert,
    )
    if _RENAMED:
        records = [{_RENAMED.get(k, k): v for k, v in record.items()} for record in records]
    return records


def _convert(name: str, value: str) -> Any:
    read_as = _READ_AS[name]
    if read_as is CsvValue.UK_DATE:
        match = _UK_DATE.match(value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    if read_as is CsvValue.BOOLEAN:
        return BOOLEANS.get(value.casefold(), value)
    return value
