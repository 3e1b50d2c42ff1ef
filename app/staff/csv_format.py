"""Staff batches as CSV: UTF-8 with or without BOM, quoted fields, CRLF or LF, UK dates."""

import csv
import io
import re
from typing import Any

from app.core.problems import BadRequest, PayloadTooLarge, ValidationFailed

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
_BOOLEANS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}
_CANONICAL = {name.casefold(): name for name in COLUMNS}


def parse_staff_csv(body: bytes, max_records: int) -> list[dict[str, Any]]:
    """Records as the JSON batch would carry them; empty cells are left out."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The CSV is not UTF-8 (byte {exc.start}).") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValidationFailed("The CSV is empty: it needs a header line.")
    names = [_CANONICAL.get(h.strip().casefold()) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n is None]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if unknown or missing:
        raise ValidationFailed(
            "The CSV header does not match the documented columns.",
            invalid_params=[(h, "Unknown column.") for h in unknown]
            + [(c, "Required column missing.") for c in missing],
        )
    records: list[dict[str, Any]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(records) >= max_records:
            raise PayloadTooLarge(f"A batch holds at most {max_records} records.")
        record: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=False):
            value = cell.strip()
            if name is None or value == "":
                continue
            record[name] = _convert(name, value)
        if len(cells) > len(names):
            record["_extraCells"] = len(cells) - len(names)
        records.append(record)
    return records


def _convert(name: str, value: str) -> Any:
    if name in ("startDate", "endDate"):
        match = _UK_DATE.match(value)
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    if name == "boardMember":
        return _BOOLEANS.get(value.casefold(), value)
    return value
