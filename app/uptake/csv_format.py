"""Every uptake answer as CSV when the client asks for it with ``Accept: text/csv``."""

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

CSV_MEDIA_TYPE = "text/csv"
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == CSV_MEDIA_TYPE for part in accept.split(","))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(value)


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with a single quote so that it is
    shown as text. Numbers are written by ``_cell`` without it: a negative count stays a number.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_response(row_model: type[BaseModel], rows: Sequence[BaseModel]) -> Response:
    """A header line of the rows' JSON names, then one line per row (null: empty)."""
    names = [field.alias or name for name, field in row_model.model_fields.items()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        values = row.model_dump(by_alias=True)
        writer.writerow([_cell(values[name]) for name in names])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def csv_content(example: str) -> dict[str, Any]:
    """The OpenAPI ``content`` entry of a CSV answer."""
    return {
        CSV_MEDIA_TYPE: {"schema": {"type": "string", "maxLength": 100_000_000}, "example": example}
    }
