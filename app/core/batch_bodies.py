"""Reading batch bodies (JSON or CSV) the same way for every domain that takes batches.

A batch is checked record by record later, so one bad record never stops the others; here only
the envelope is read: its size (413 over the limit), JSON syntax (400), the CSV's encoding and
header (422 naming each unknown or missing column).
"""

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.problem_handlers import error_location
from app.core.problems import (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

M = TypeVar("M", bound=BaseModel)

# JSON read by the service itself (xAPI statements) nests at most this deep: deeper is a 400,
# never a RecursionError in the parser or in whatever walks the value afterwards.
MAX_JSON_DEPTH = 64

# The csv module refuses a cell over 131,072 characters with an error that ends the whole
# file; the body limit bounds cells already, so a long cell is read and its record rejected,
# naming the column, by the length limit of its field like any other.
csv.field_size_limit(2**31 - 1)

# A CSV batch comes as text/csv, or as application/octet-stream (the same bytes) for generated
# clients that send raw bodies only as that: openapi-python-client, for one, skips text/csv.
CSV_MEDIA_TYPES = ("text/csv", "application/octet-stream")
MAX_CSV_BYTES = 10_485_760

BOOLEANS = {"true": True, "yes": True, "y": True, "1": True}
BOOLEANS.update({"false": False, "no": False, "n": False, "0": False})


def batch_request_body(json_schema: str, csv_example: str, description: str) -> dict[str, Any]:
    """The OpenAPI request body of a batch: JSON ``json_schema``, or CSV as text/csv and as
    application/octet-stream, ``format: binary``, which generators turn into a file or bytes
    argument.

    openapi-python-client 0.29.1 types the body of an operation with several request media
    types as optional (``| Unset = UNSET``) even when it is required (its ``arguments`` macro
    reads ``body_required`` before setting it), and imports ``Unset`` only for an optional
    parameter: every batch operation has one (openapi-generators/openapi-python-client#1451).
    """
    csv_schema = {"type": "string", "maxLength": MAX_CSV_BYTES}
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}},
        "text/csv": {"schema": csv_schema, "example": csv_example},
        "application/octet-stream": {
            "schema": {**csv_schema, "format": "binary"},
            "example": csv_example,
        },
    }
    description += (
        " CSV is sent as `text/csv`, or as `application/octet-stream` (the same bytes) by"
        " clients that cannot send `text/csv`."
    )
    return {"required": True, "content": content, "description": description}


def batch_format(content_type: str) -> Literal["json", "csv"]:
    """Whether a batch body (by its Content-Type header) is JSON or CSV; 415 when neither."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        return "json"
    if media_type in CSV_MEDIA_TYPES:
        return "csv"
    raise UnsupportedMediaType(
        "Send application/json, or CSV as text/csv or application/octet-stream."
    )


def read_json(body: bytes) -> Any:
    """A JSON body, nested at most ``MAX_JSON_DEPTH`` deep (400 when deeper or not JSON)."""
    too_deep = BadRequest(f"The body nests JSON arrays and objects deeper than {MAX_JSON_DEPTH}.")
    try:
        value = json.loads(body)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise too_deep
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def read_json_batch(
    body: bytes, model: type[M], max_records: int, *, checked: type[M] | None = None
) -> M:
    """The JSON envelope of a batch; its ``records`` are left for per-record checks.

    Parsed and checked in one pass by Pydantic (``model`` bounds ``records`` at
    ``max_records``), faster than reading the JSON first and then checking the objects it made.

    ``checked``: the same envelope with its records typed. When every record is valid (most
    batches) the batch comes back as that, every record checked in the same pass, faster than
    the envelope and then each record (bench/README.md has the figures). When any is not,
    the records are left for per-record checks, which name each bad one. Both ways check a
    record the same way: as JSON, with the same validators."""
    if checked is not None:
        try:
            return checked.model_validate_json(body)
        except ValidationError:
            pass
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        if errors[0]["type"] == "json_invalid":
            raise BadRequest(f"The body is not valid JSON: {errors[0]['msg']}.") from None
        if any(e["type"] == "too_long" and tuple(e["loc"]) == ("records",) for e in errors):
            raise PayloadTooLarge(f"A batch holds at most {max_records} records.") from None
        raise ValidationFailed(
            "The batch is not valid.",
            invalid_params=[(error_location(e["loc"]), e["msg"]) for e in errors],
        ) from None


def read_csv_records(
    body: bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    max_records: int,
    convert: Callable[[str, str], Any],
) -> list[dict[str, Any]]:
    """Records as the JSON batch would carry them: UTF-8 with or without BOM, RFC 4180 quoting
    (commas and newlines inside quotes), CRLF or LF, header names matched ignoring case.
    Empty cells are left out; ``convert(column, text)`` turns a cell into its JSON value."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The CSV is not UTF-8 (byte {exc.start}).") from None
    canonical = {name.casefold(): name for name in columns}
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValidationFailed("The CSV is empty: it needs a header line.")
    names = [canonical.get(h.strip().casefold()) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n is None]
    missing = [c for c in required if c not in names]
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
            if name is not None and value != "":
                record[name] = convert(name, value)
        if len(cells) > len(names):
            record["_extraCells"] = len(cells) - len(names)
        records.append(record)
    return records
