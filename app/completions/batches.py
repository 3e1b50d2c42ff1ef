"""Completion batches (JSON or CSV): every valid record stored, every other one reported."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import service
from app.completions.records import Rejection, validate_batch_records
from app.completions.schemas import (
    CompletionBatchResult,
    CompletionFields,
    CompletionRejection,
    MatchStatus,
)
from app.core.clock import utcnow
from app.core.metrics import BATCH_RECORDS_RECEIVED, BATCH_RECORDS_REJECTED, count_on_commit
from app.courses.repository import course_ids_by_code


async def apply_completion_batch(
    session: AsyncSession, caller: Caller, records: Sequence[Any]
) -> CompletionBatchResult:
    """Stores the new completions of the batch with one statement per step. A record sent
    before with the same externalId and content is counted unchanged (so re-sending a batch
    changes nothing); with other content it is rejected, naming the fields that differ."""
    caller.note_audit("batch", "completionBatch", None, None)
    codes = [
        r.course_code if isinstance(r, CompletionFields) else str(r["courseCode"])
        for r in records
        if isinstance(r, CompletionFields) or (isinstance(r, Mapping) and "courseCode" in r)
    ]
    course_ids = await course_ids_by_code(session, codes)
    validated = validate_batch_records(
        records, course_ids, client_id=caller.client_id, now=utcnow()
    )
    recorded = await service.record_completions(session, caller, validated.rows)
    row_of = {
        row["external_id"]: number
        for row, number in zip(validated.rows, validated.row_numbers, strict=True)
    }
    rejections = validated.rejections + [
        Rejection(
            row_of[row["external_id"]],
            row["external_id"],
            [(name, "Differs from the completion recorded with this externalId.") for name in diff],
        )
        for row, _, diff in recorded.conflicts
    ]
    rejections.sort(key=lambda r: r.row)
    matched = sum(1 for row in recorded.created if row["match_status"] == MatchStatus.MATCHED)
    count_on_commit(session, BATCH_RECORDS_RECEIVED.labels("completions"), len(records))
    count_on_commit(session, BATCH_RECORDS_REJECTED.labels("completions"), len(rejections))
    return CompletionBatchResult(
        received=len(records),
        recorded=len(recorded.created),
        matched=matched,
        unmatched=len(recorded.created) - matched,
        unchanged=len(recorded.unchanged),
        rejected=len(rejections),
        rejections=[
            CompletionRejection(
                row=r.row,
                external_id=r.external_id,
                reasons=[{"name": name, "reason": reason} for name, reason in r.reasons],
            )
            for r in rejections
        ],
    )
