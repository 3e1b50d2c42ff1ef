"""Completion batches (JSON or CSV): every valid record stored, every other one reported."""

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import idempotency, service
from app.completions.csv_format import parse_completion_csv
from app.completions.records import Rejection, validate_batch_records
from app.completions.schemas import (
    MAX_BATCH_RECORDS,
    CompletionBatch,
    CompletionBatchIn,
    CompletionBatchResult,
    CompletionFields,
    CompletionRejection,
    MatchStatus,
)
from app.core.batch_bodies import read_json_batch
from app.core.clock import utcnow
from app.core.metrics import BATCH_RECORDS_RECEIVED, BATCH_RECORDS_REJECTED, count_on_commit
from app.courses.repository import course_ids_by_code


async def post_completion_batch(
    session: AsyncSession,
    caller: Caller,
    body: bytes,
    body_format: Literal["json", "csv"],
    *,
    idempotency_key: str | None,
) -> tuple[CompletionBatchResult, bool]:
    """The batch's result, and whether it is the answer replayed to an earlier request with the
    same Idempotency-Key and the same body (then nothing is read or written again)."""
    if idempotency_key is None:
        return await apply_completion_batch(session, caller, _records(body, body_format)), False
    key = idempotency.parse_key(idempotency_key)
    request_fingerprint = idempotency.fingerprint(
        "POST", "/completionBatches", [body_format, hashlib.sha256(body).hexdigest()]
    )
    stored = await idempotency.recall(session, caller.client_id, key, request_fingerprint)
    if stored is not None:
        caller.note_audit("batch", "completionBatch", None, None)
        return CompletionBatchResult.model_validate(stored.body), True
    result = await apply_completion_batch(session, caller, _records(body, body_format))
    await idempotency.remember(
        session,
        caller.client_id,
        key,
        request_fingerprint,
        idempotency.StoredAnswer(200, result.model_dump(mode="json"), None),
    )
    return result, False


def _records(body: bytes, body_format: Literal["json", "csv"]) -> Sequence[Any]:
    if body_format == "csv":
        return parse_completion_csv(body, MAX_BATCH_RECORDS)
    envelope = read_json_batch(body, CompletionBatchIn, MAX_BATCH_RECORDS, checked=CompletionBatch)
    return envelope.records


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
        row.external_id: number
        for row, number in zip(validated.rows, validated.row_numbers, strict=True)
    }
    rejections = validated.rejections + [
        Rejection(
            row_of[row.external_id],
            row.external_id,
            [(name, "Differs from the completion recorded with this externalId.") for name in diff],
        )
        for row, _, diff in recorded.conflicts
    ]
    rejections.sort(key=lambda r: r.row)
    matched = sum(1 for view in recorded.created if view.match_status == MatchStatus.MATCHED)
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
