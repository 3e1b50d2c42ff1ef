"""From what a platform sent to completion rows: the checks, and the row to store."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from app.completions.rows import CompletionRow, CompletionView
from app.completions.schemas import Channel, CompletionFields
from app.core.clock import clock_skew
from app.core.problem_handlers import error_location

# Column (of CompletionRow and CompletionView) → wire name of what a platform sends: the
# content compared on a repeat.
CONTENT_FIELDS = {
    "employee_number": "employeeNumber",
    "work_email_key": "workEmail",
    "course_id": "courseCode",
    "completed_at": "completedAt",
    "passed": "passed",
    "score_scaled": "scoreScaled",
}


@dataclass
class Rejection:
    row: int
    external_id: str | None
    reasons: list[tuple[str, str]]


@dataclass
class Validated:
    rows: list[CompletionRow] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def completion_row(
    *,
    client_id: str,
    external_id: str,
    channel: Channel,
    course_id: int,
    course_code: str,
    employee_number: str | None,
    work_email: str | None,
    email_sha1: str | None,
    completed_at: datetime,
    passed: bool | None,
    score_scaled: float | None,
    now: datetime,
    content_hash: str | None = None,
) -> CompletionRow:
    """The completions row (matching says who it is about)."""
    return CompletionRow(  # by position, as CompletionView.recorded explains
        client_id,
        external_id,
        channel.value,
        course_id,
        employee_number,
        work_email,
        work_email.casefold() if work_email else None,  # work_email_key
        email_sha1,
        completed_at.astimezone(UTC),
        passed,
        score_scaled,
        content_hash,
        now,  # created_at
        course_code,
    )


def refusals(
    record: CompletionFields, course_ids: Mapping[str, int], now: datetime
) -> list[tuple[str, str]]:
    """Why a schema-valid record cannot be stored (empty when it can)."""
    reasons: list[tuple[str, str]] = []
    if record.employee_number is None and record.work_email is None:
        reasons += [
            ("employeeNumber", "Send employeeNumber or workEmail (or both)."),
            ("workEmail", "Send employeeNumber or workEmail (or both)."),
        ]
    if record.course_code not in course_ids:
        reasons.append(("courseCode", f"Unknown course {record.course_code}."))
    if record.completed_at > now + clock_skew():
        reasons.append(("completedAt", "Is in the future."))
    return reasons


def to_row(
    record: CompletionFields,
    course_ids: Mapping[str, int],
    *,
    client_id: str,
    channel: Channel,
    now: datetime,
) -> CompletionRow:
    return completion_row(
        client_id=client_id,
        external_id=record.external_id,
        channel=channel,
        course_id=course_ids[record.course_code],
        course_code=record.course_code,
        employee_number=record.employee_number,
        work_email=str(record.work_email) if record.work_email is not None else None,
        email_sha1=None,
        completed_at=record.completed_at,
        passed=record.passed,
        score_scaled=record.score_scaled,
        now=now,
    )


def differing_fields(stored: CompletionView, sent: CompletionRow) -> list[str]:
    """The wire names of what differs between a stored completion and a repeat of it."""
    if stored.content_hash is not None or sent.content_hash is not None:
        return [] if stored.content_hash == sent.content_hash else ["statement"]
    return [
        wire
        for column, wire in CONTENT_FIELDS.items()
        if getattr(stored, column) != getattr(sent, column)
    ]


def validate_batch_records(
    raw_records: Sequence[Any],
    course_ids: Mapping[str, int],
    *,
    client_id: str,
    now: datetime,
) -> Validated:
    """Checks every record on its own, so one bad record never stops the others. A record may
    come checked already (``CompletionFields``, when the whole batch was valid)."""
    validated = Validated()
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_records, start=1):
        if isinstance(raw, CompletionFields):  # checked already, with the whole batch
            record = raw
        elif not isinstance(raw, Mapping):
            validated.rejections.append(Rejection(index, None, [("", "Not a JSON object.")]))
            continue
        else:
            try:
                record = CompletionFields.model_validate(raw)
            except ValidationError as exc:
                external_id = raw.get("externalId")
                sent_id = str(external_id) if external_id is not None else None
                reasons = [(error_location(e["loc"]), e["msg"]) for e in exc.errors()]
                validated.rejections.append(Rejection(index, sent_id, reasons))
                continue
        reasons = refusals(record, course_ids, now)
        if record.external_id in seen:
            reasons.append(("externalId", f"Repeats the record in row {seen[record.external_id]}."))
        if reasons:
            validated.rejections.append(Rejection(index, record.external_id, reasons))
            continue
        seen[record.external_id] = index
        validated.rows.append(
            to_row(record, course_ids, client_id=client_id, channel=Channel.BATCH, now=now)
        )
        validated.row_numbers.append(index)
    return validated
