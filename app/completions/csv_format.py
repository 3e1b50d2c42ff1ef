"""Completion batches as CSV: UTF-8 with or without BOM, quoted fields, CRLF or LF."""

import csv
import io

from app.core.problems import BadRequest, PayloadTooLarge, ValidationFailed

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
_CANONICAL = {name.casefold(): name for name in COLUMNS}
_BOOLEANS = {"true": True, "yes": True, "y": True, "1": True}
_BOOLEANS.update({"false": False, "no": False, "n": False, "0": False})


def parse_completion_csv(body: bytes, max_records: int) -> list[dict[str, object]]:
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
    records: list[dict[str, object]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(records) >= max_records:
            raise PayloadTooLarge(f"A batch holds at most {max_records} records.")
        record: dict[str, object] = {}
        for name, cell in zip(names, cells, strict=False):
            value = cell.strip()
            if name is None or value == "":
                continue
            record[name] = _BOOLEANS.get(value.casefold(), value) if name == "passed" else value
        if len(cells) > len(names):
            record["_extraCells"] = len(cells) - len(names)
        records.append(record)
    return records
