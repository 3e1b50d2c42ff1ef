"""A completion's rows, declared once: what a platform sent, checked (``CompletionRow``), who
it is about (``Identification``), and a stored completion as it is read (``CompletionView``).

The write path carries them from the request (records, xAPI) through matching to the
repository, which alone turns them into SQL parameters; the read path hands views to the
service and the routers. All three are named tuples: immutable, and as cheap to build as the
dicts they replace, for the 10,000 rows of a batch.
"""

from datetime import datetime
from typing import NamedTuple

from app.models import Completion


class CompletionRow(NamedTuple):
    """A checked completion in completions' columns, as a platform sent it (``created_at``
    is when it arrived, its ``updated_at`` too), with its course's code for the answer and
    the events."""

    client_id: str
    external_id: str
    channel: str
    course_id: int
    employee_number: str | None
    work_email: str | None
    work_email_key: str | None  # the e-mail lower-cased: e-mails compare case-insensitively
    email_sha1: str | None
    completed_at: datetime
    passed: bool | None
    score_scaled: float | None
    content_hash: str | None  # xAPI: what a repeat of the statement is compared by
    created_at: datetime
    course_code: str


class Identification(NamedTuple):
    """Who a completion row is about, as matching found them, by the completions column
    each goes in (``organisation`` and ``matched_employee_number`` are for the answer and
    the events)."""

    sender_organisations: str | None
    staff_id: int | None
    match_status: str
    match_reason: str | None
    matched_at: datetime | None
    organisation: str | None
    matched_employee_number: str | None


class CompletionView(NamedTuple):
    """A stored completion: completions' columns in order, then its course's code and the
    staff member it matched (their employee number and organisation; None while unmatched)."""

    id: int
    client_id: str
    external_id: str
    channel: str
    course_id: int
    employee_number: str | None
    work_email: str | None
    work_email_key: str | None
    email_sha1: str | None
    completed_at: datetime
    passed: bool | None
    score_scaled: float | None
    content_hash: str | None
    staff_id: int | None
    match_status: str
    match_reason: str | None
    matched_at: datetime | None
    retracted_at: datetime | None
    retraction_reason: str | None
    retracted_by: str | None
    sender_organisations: str | None
    created_at: datetime
    updated_at: datetime
    course_code: str
    matched_employee_number: str | None
    organisation: str | None

    @classmethod
    def recorded(
        cls, completion_id: int, row: CompletionRow, found: Identification
    ) -> "CompletionView":
        """The completion just stored from ``row`` as ``found`` identified it."""
        # Unpacked, and built by position: a named tuple's attribute is read through a
        # descriptor and a class called with keywords packs them into a dict first, which
        # for a batch's 10,000 views costs more than the rest of this.
        (
            client_id,
            external_id,
            channel,
            course_id,
            employee_number,
            work_email,
            work_email_key,
            email_sha1,
            completed_at,
            passed,
            score_scaled,
            content_hash,
            created_at,
            course_code,
        ) = row
        (
            sender_organisations,
            staff_id,
            match_status,
            match_reason,
            matched_at,
            organisation,
            matched_employee_number,
        ) = found
        return cls(
            completion_id,
            client_id,
            external_id,
            channel,
            course_id,
            employee_number,
            work_email,
            work_email_key,
            email_sha1,
            completed_at,
            passed,
            score_scaled,
            content_hash,
            staff_id,
            match_status,
            match_reason,
            matched_at,
            None,  # retracted_at
            None,  # retraction_reason
            None,  # retracted_by
            sender_organisations,
            created_at,
            created_at,  # updated_at
            course_code,
            matched_employee_number,
            organisation,
        )


# The view's columns are completions' own, in order: the repository reads a view straight
# from a row of its query.
VIEW_EXTRAS = ("course_code", "matched_employee_number", "organisation")
_COLUMNS = tuple(column.name for column in Completion.__table__.c)
if CompletionView._fields != (*_COLUMNS, *VIEW_EXTRAS):  # pragma: no cover - a declaration slip
    raise TypeError("CompletionView's attributes must be completions' columns, in order.")
