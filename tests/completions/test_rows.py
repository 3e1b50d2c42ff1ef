"""A completion's rows are typed and immutable (app/completions/rows.py): what a platform
sent, checked; who it is about; a stored completion as read. So are the xAPI statements and
links the repository stores. No database here."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.completions.records import completion_row, differing_fields, validate_batch_records
from app.completions.rows import VIEW_EXTRAS, CompletionRow, CompletionView, Identification
from app.completions.schemas import Channel
from app.completions.xapi_repository import StatementLink, StatementRow
from app.models import Completion, XapiStatement, XapiStatementLink

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RECORD = {
    "employeeNumber": "100001",
    "workEmail": "Sian.Llyr@Wales.NHS.uk",
    "courseCode": "IQT-BRONZE",
    "completedAt": "2026-11-20T14:03:00+01:00",
    "passed": True,
    "scoreScaled": 0.9,
    "externalId": "x-1",
}
# Every value apart, so that a value put in another's place shows.
FOUND = Identification("7A4 7A6", 42, "matched", "Why not.", NOW - timedelta(1), "7A4", "100009")


def _row() -> CompletionRow:
    (row,) = validate_batch_records([RECORD], {"IQT-BRONZE": 7}, client_id="lms", now=NOW).rows
    return row


def test_a_checked_record_is_a_typed_row_in_completions_columns() -> None:
    row = _row()
    assert row == CompletionRow(
        client_id="lms",
        external_id="x-1",
        channel="batch",
        course_id=7,
        employee_number="100001",
        work_email="Sian.Llyr@wales.nhs.uk",
        work_email_key="sian.llyr@wales.nhs.uk",
        email_sha1=None,
        completed_at=datetime(2026, 11, 20, 13, 3, tzinfo=UTC),
        passed=True,
        score_scaled=0.9,
        content_hash=None,
        created_at=NOW,
        course_code="IQT-BRONZE",
    )
    assert row.completed_at.utcoffset() == timedelta(0)
    with pytest.raises((AttributeError, FrozenInstanceError)):
        row.passed = False  # type: ignore[misc]


def test_a_row_from_a_statement_keeps_its_hashes_apart() -> None:
    row = completion_row(
        client_id="lms", external_id="s-1", channel=Channel.XAPI, course_id=7,
        course_code="IQT-BRONZE", employee_number=None, work_email=None, email_sha1="e" * 40,
        completed_at=NOW, passed=None, score_scaled=None, now=NOW, content_hash="c" * 64,
    )  # fmt: skip
    assert (row.channel, row.email_sha1, row.content_hash) == ("xapi", "e" * 40, "c" * 64)
    assert (row.employee_number, row.work_email, row.work_email_key) == (None, None, None)


def test_a_completion_just_recorded_is_viewed_as_it_is_read_back() -> None:
    row = _row()._replace(email_sha1="e" * 40, content_hash="c" * 64)
    view = CompletionView.recorded(5, row, FOUND)
    assert [getattr(view, name) for name in CompletionRow._fields] == list(row)
    assert [getattr(view, name) for name in Identification._fields] == list(FOUND)
    assert view.id == 5
    assert (view.retracted_at, view.retraction_reason, view.retracted_by) == (None, None, None)
    assert view.created_at == view.updated_at == NOW
    assert differing_fields(view, row) == []


def test_a_view_holds_completions_columns_in_order_then_what_it_joins() -> None:
    columns = [column.name for column in Completion.__table__.c]
    assert list(CompletionView._fields) == [*columns, *VIEW_EXTRAS]
    assert set(CompletionRow._fields) - set(columns) == {"course_code"}


def test_a_repeat_differs_by_the_wire_names_of_what_it_changes() -> None:
    stored = CompletionView.recorded(5, _row(), FOUND)
    later = timezone(timedelta(hours=2))
    sent = _row()._replace(
        score_scaled=0.5, completed_at=datetime(2026, 11, 20, 15, 3, tzinfo=later)
    )
    assert differing_fields(stored, sent) == ["scoreScaled"]
    statement = _row()._replace(content_hash="a" * 64)
    assert differing_fields(stored, statement) == ["statement"]


def test_a_statement_is_stored_as_a_row_of_its_table_and_links_of_theirs() -> None:
    columns = [column.name for column in XapiStatement.__table__.c]
    assert ["id", *StatementRow._fields] == columns
    assert list(StatementLink._fields) == [c.name for c in XapiStatementLink.__table__.c]
