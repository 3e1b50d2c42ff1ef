"""A batch whose records are all valid is checked in one pass; one with a bad record is read
as an envelope and checked record by record. Both ways give the same rows."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.auth.caller import Caller
from app.completions import records as completion_records
from app.completions.schemas import CompletionBatch, CompletionBatchIn, CompletionFields
from app.core.batch_bodies import read_json_batch
from app.core.problems import BadRequest, PayloadTooLarge
from app.staff import records as staff_records
from app.staff.records import References
from app.staff.schemas import StaffBatch, StaffBatchIn, StaffBatchRecord
from tests.staff.factories import batch_record

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
COMPLETIONS = [
    {
        "employeeNumber": "100001",
        "courseCode": "IQT-BRONZE",
        "completedAt": "2026-11-20T14:03:00+01:00",
        "passed": True,
        "scoreScaled": 0.9,
        "externalId": "x-1",
    },
    {
        "workEmail": "Sian.Llyr@Wales.NHS.uk",
        "courseCode": "IQT-BRONZE",
        "completedAt": "2026-11-20T14:03:00Z",
        "externalId": "x-2",
    },
]


def _body(**envelope: Any) -> bytes:
    return json.dumps(envelope).encode()


def test_valid_completions_are_checked_in_one_pass_as_they_are_one_by_one() -> None:
    body = _body(records=COMPLETIONS)
    valid = read_json_batch(body, CompletionBatchIn, 10_000, checked=CompletionBatch)
    assert isinstance(valid, CompletionBatch)
    assert all(isinstance(r, CompletionFields) for r in valid.records)
    apart = read_json_batch(body, CompletionBatchIn, 10_000).records
    assert all(isinstance(r, dict) for r in apart)
    courses = {"IQT-BRONZE": 1}
    one_pass = completion_records.validate_batch_records(
        valid.records, courses, client_id="c", now=NOW
    )
    one_by_one = completion_records.validate_batch_records(apart, courses, client_id="c", now=NOW)
    assert one_pass == one_by_one
    assert len(one_pass.rows) == 2


def test_a_batch_with_a_bad_record_is_left_to_be_checked_one_by_one() -> None:
    bad = [*COMPLETIONS, {**COMPLETIONS[0], "externalId": "x-3", "passed": "yes"}]
    left = read_json_batch(_body(records=bad), CompletionBatchIn, 10_000, checked=CompletionBatch)
    assert not isinstance(left, CompletionBatch)
    assert all(isinstance(r, dict) for r in left.records)
    with pytest.raises(BadRequest):
        read_json_batch(b"{not json", CompletionBatchIn, 10_000, checked=CompletionBatch)
    too_many = _body(records=[COMPLETIONS[0]] * 10_001)
    with pytest.raises(PayloadTooLarge):
        read_json_batch(too_many, CompletionBatchIn, 10_000, checked=CompletionBatch)


def test_valid_staff_records_are_checked_in_one_pass_as_they_are_one_by_one() -> None:
    records = [batch_record("100001"), batch_record("100002", staffGroup="03", boardMember=True)]
    body = _body(mode="upsert", organisation="7A4", records=records)
    valid = read_json_batch(body, StaffBatchIn, 10_000, checked=StaffBatch)
    assert isinstance(valid, StaffBatch)
    assert all(isinstance(r, StaffBatchRecord) for r in valid.records)
    apart = read_json_batch(body, StaffBatchIn, 10_000).records
    references = References(
        organisations={"7A4"},
        staff_groups={"03": ("03", "Nursing and Midwifery Registered")}
        | {"nursing and midwifery registered": ("03", "Nursing and Midwifery Registered")},
    )
    caller = Caller(client_id="c", scopes=frozenset(), organisations=None, request_id="r")
    checked = [
        staff_records.validate_batch_records(
            batch, references, caller, default_organisation="7A4", snapshot_organisation=None
        )
        for batch in (valid.records, apart)
    ]
    assert checked[0] == checked[1]
    assert len(checked[0].rows) == 2
    # A record leaving out its organisation (the batch's) is checked one by one.
    without = [{k: v for k, v in records[0].items() if k != "organisation"}]
    left = read_json_batch(
        _body(mode="upsert", records=without), StaffBatchIn, 10_000, checked=StaffBatch
    )
    assert not isinstance(left, StaffBatch)
    assert all(isinstance(r, dict) for r in left.records)
