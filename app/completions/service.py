"""Completions: record (one, a batch, xAPI), read, retract."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import write_audit_records
from app.auth.caller import AuditNote, Caller
from app.completions import idempotency, matching, repository
from app.completions.events import CompletionRecorded, CompletionRetracted
from app.completions.records import differing_fields, refusals, to_row
from app.completions.rows import CompletionRow, CompletionView
from app.completions.schemas import Channel, CompletionIn, CompletionRead, MatchStatus
from app.core.clock import utcnow
from app.core.group_commit import GroupCommit
from app.core.metrics import (
    COMPLETIONS_RECORDED,
    COMPLETIONS_RETRACTED,
    count_each_on_commit,
    count_on_commit,
)
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Conflict, NotFound, ProblemError, ValidationFailed
from app.courses.repository import course_ids_by_code
from app.events.bus import publish


@dataclass
class Recorded:
    """What recording a set of completion rows did."""

    created: list[CompletionView] = field(default_factory=list)
    unchanged: list[CompletionView] = field(default_factory=list)
    # (the row sent, the completion stored with its external id, the fields that differ)
    conflicts: list[tuple[CompletionRow, CompletionView, list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    location: str | None
    replayed: bool = False
    organisation: str | None = None  # the person's, for the audit record


def to_read(view: CompletionView) -> CompletionRead:
    return CompletionRead(
        id=view.id,
        employee_number=view.employee_number,
        work_email=view.work_email,
        course_code=view.course_code,
        completed_at=view.completed_at,
        passed=view.passed,
        score_scaled=view.score_scaled,
        external_id=view.external_id,
        source=view.client_id,
        channel=view.channel,
        match_status=view.match_status,
        match_reason=view.match_reason,
        matched_employee_number=view.matched_employee_number,
        matched_at=view.matched_at,
        status="retracted" if view.retracted_at is not None else "recorded",
        retracted_at=view.retracted_at,
        retraction_reason=view.retraction_reason,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


async def record_completions(
    session: AsyncSession, caller: Caller, rows: Sequence[CompletionRow]
) -> Recorded:
    """Matches and stores new completions, one statement per step for all rows. A row whose
    external id this client used before is compared with what is stored: the same content
    writes nothing, other content is a conflict (and nothing is written for it)."""
    recorded = Recorded()
    if not rows:
        return recorded
    identified = await matching.identify(session, caller, rows)
    ids = await repository.insert_completions(session, rows, identified)
    repeats = [row.external_id for row in rows if row.external_id not in ids]
    stored = await repository.views_by_external_id(session, caller.client_id, repeats)
    for row, found in zip(rows, identified, strict=True):
        completion_id = ids.get(row.external_id)
        if completion_id is not None:
            recorded.created.append(CompletionView.recorded(completion_id, row, found))
            continue
        existing = stored[row.external_id]
        differing = differing_fields(existing, row)
        if differing:
            recorded.conflicts.append((row, existing, differing))
        else:
            recorded.unchanged.append(existing)
    count_each_on_commit(
        session,
        COMPLETIONS_RECORDED,
        ((view.channel, view.match_status) for view in recorded.created),
    )
    await publish(session, [_recorded_event(view) for view in recorded.created], caller=caller)
    return recorded


def _recorded_event(view: CompletionView) -> CompletionRecorded:
    return CompletionRecorded(
        completion_id=view.id,
        organisation=view.organisation,
        staff_id=view.staff_id,
        course_code=view.course_code,
        completed_at=view.completed_at,
        passed=view.passed,
        score_scaled=view.score_scaled,
        match_status=view.match_status,
        employee_number=view.matched_employee_number,
    )


@dataclass(frozen=True)
class Submission:
    """One ``POST /completions``: who sent what, and how to name the completion it makes."""

    caller: Caller
    body: CompletionIn
    location_of: Callable[[int], str]


def same_completion(submission: Submission) -> tuple[str, str]:
    """Two submissions with this in common are one completion: they never share a group."""
    return submission.caller.client_id, submission.body.external_id


def same_client(submission: Submission) -> str:
    """A group holds one client's submissions: recorded in one pass, they take their locks
    (identities, then people) in one sorted order, as a batch does."""
    return submission.caller.client_id


async def post_completion(
    session: AsyncSession,
    submission: Submission,
    *,
    idempotency_key: str | None,
    groups: GroupCommit[Submission, Answer | ProblemError] | None = None,
) -> Answer:
    """Records one completion (201), answers a repeat of it (200), or replays the answer to
    an earlier request with the same Idempotency-Key. Without a key, and with ``groups``, it
    is written in one transaction with the completions posted at the same time."""
    caller = submission.caller
    try:
        if idempotency_key is None:
            if groups is not None:
                # This request's own session has nothing to write: end its transaction (a
                # client lookup's, if any) so that it holds no connection or lock while it waits.
                if session.in_transaction():
                    await session.commit()
                outcome = await groups.submit(submission)
                if outcome is not None:
                    if isinstance(outcome, ProblemError):
                        raise outcome
                    return outcome
            return await _record_one(session, submission)
        key = idempotency.parse_key(idempotency_key)
        request_fingerprint = idempotency.fingerprint(
            "POST", "/completions", submission.body.model_dump(mode="json", by_alias=True)
        )
        stored = await idempotency.recall(session, caller.client_id, key, request_fingerprint)
        if stored is not None:
            caller.note_audit("create", "completion", _id_in(stored.body), None)
            return Answer(stored.status, stored.body, stored.location, replayed=True)
        answer = await _record_one(session, submission)
        await idempotency.remember(
            session,
            caller.client_id,
            key,
            request_fingerprint,
            idempotency.StoredAnswer(answer.status, answer.body, answer.location),
        )
        return answer
    except ProblemError:
        caller.note_audit("create", "completion", None, None)
        raise


def _id_in(body: Mapping[str, Any]) -> str | None:
    return str(body["id"]) if "id" in body else None


async def _record_one(session: AsyncSession, submission: Submission) -> Answer:
    (outcome,) = await record_submissions(session, [submission])
    if isinstance(outcome, ProblemError):
        raise outcome
    submission.caller.note_audit("create", "completion", _id_in(outcome.body), outcome.organisation)
    return outcome


async def record_group(
    session: AsyncSession, submissions: Sequence[Submission]
) -> list[Answer | ProblemError]:
    """``record_submissions`` with the audit records of the recorded ones, for a group commit
    (the refused ones are audited by their own requests, as failures)."""
    outcomes = await record_submissions(session, submissions)
    await write_audit_records(
        session,
        [
            (submission.caller, AuditNote("create", "completion", _id_in(o.body), o.organisation))
            for submission, o in zip(submissions, outcomes, strict=True)
            if isinstance(o, Answer)
        ],
    )
    return outcomes


async def record_submissions(
    session: AsyncSession, submissions: Sequence[Submission]
) -> list[Answer | ProblemError]:
    """Records one client's single completions in the session's transaction, one statement per
    step for all of them (in one pass, so that locks are taken in one order, as for a batch).
    Each gets what it would get on its own: 201, 200 for a repeat, or the problem (422, 409) for
    one that writes nothing. No two may share ``same_completion``."""
    caller = submissions[0].caller
    assert all(s.caller.client_id == caller.client_id for s in submissions), "see same_client"
    now = utcnow()
    course_ids = await course_ids_by_code(session, [s.body.course_code for s in submissions])
    outcomes: list[Answer | ProblemError | None] = [None] * len(submissions)
    accepted: list[int] = []
    for index, submission in enumerate(submissions):
        reasons = refusals(submission.body, course_ids, now)
        if reasons:
            outcomes[index] = ValidationFailed(
                f"{len(reasons)} field(s) not valid.", invalid_params=reasons
            )
        else:
            accepted.append(index)
    rows = [
        to_row(
            submissions[i].body,
            course_ids,
            client_id=caller.client_id,
            channel=Channel.API,
            now=now,
        )
        for i in accepted
    ]
    recorded = await record_completions(session, caller, rows)
    created = {view.external_id: view for view in recorded.created}
    unchanged = {view.external_id: view for view in recorded.unchanged}
    conflicts = {row.external_id: (view, fields) for row, view, fields in recorded.conflicts}
    for i in accepted:
        submission = submissions[i]
        external_id = submission.body.external_id
        if external_id in conflicts:
            outcomes[i] = _conflict(external_id, *conflicts[external_id])
            continue
        status, view = (
            (201, created[external_id]) if external_id in created else (200, unchanged[external_id])
        )
        outcomes[i] = Answer(
            status,
            to_read(view).model_dump(mode="json", by_alias=True),
            submission.location_of(view.id),
            organisation=view.organisation,
        )
    return [outcome for outcome in outcomes if outcome is not None]


def _conflict(external_id: str, existing: CompletionView, differing: list[str]) -> Conflict:
    return Conflict(
        f"externalId {external_id} was recorded before with other content: "
        f"{', '.join(differing)} differ. Send a new externalId for a new completion.",
        invalid_params=[
            (name, "Differs from the completion recorded with this externalId.")
            for name in differing
        ],
        extensions={"completionId": existing.id},
    )


def _visible(caller: Caller, view: CompletionView) -> bool:
    """Restricted clients see their organisations' matched completions, and the unmatched
    ones they sent themselves."""
    if caller.organisations is None:
        return True
    if view.match_status == MatchStatus.MATCHED:
        return caller.may_access(view.organisation)
    return view.client_id == caller.client_id


async def get_completion(
    session: AsyncSession, caller: Caller, completion_id: int
) -> CompletionView:
    view = await repository.get_view(session, completion_id)
    visible = view is not None and _visible(caller, view)
    organisation = view.organisation if view is not None and visible else None
    caller.note_audit("read", "completion", str(completion_id), organisation)
    if view is None or not visible:
        raise NotFound(f"No completion {completion_id}.")
    return view


async def list_completions(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    employee_number: str | None,
    course_code: str | None,
    match_status: MatchStatus | None,
    retracted: bool | None,
    since: datetime | None,
) -> PageResult[CompletionView]:
    caller.note_audit("list", "completion", None, None)
    staff_id = None
    if employee_number is not None:
        staff_id = await repository.staff_id_of(session, employee_number)
    return await repository.list_views(
        session,
        page,
        client_id=caller.client_id,
        visible_to=caller.organisations,
        staff_id=staff_id,
        employee_number=employee_number,
        course_code=course_code,
        match_status=match_status.value if match_status else None,
        retracted=retracted,
        since=since,
    )


async def retract_completion(
    session: AsyncSession, caller: Caller, completion_id: int, reason: str
) -> CompletionView:
    """Marks a completion retracted (it stays readable), by the client that sent it or an
    unrestricted one; writes completionRetracted and re-evaluates the person's awards. A
    completion the caller cannot read is not found, even one it sent."""
    view = await repository.get_view(session, completion_id)
    allowed = (
        view is not None
        and _visible(caller, view)
        and (view.client_id == caller.client_id or caller.organisations is None)
    )
    organisation = view.organisation if view is not None and allowed else None
    caller.note_audit("retract", "completion", str(completion_id), organisation)
    if view is None or not allowed:
        raise NotFound(f"No completion {completion_id}.")
    retracted = await repository.retract(
        session, completion_id, reason=reason, by=caller.client_id, at=utcnow()
    )
    if not retracted:
        return view
    count_on_commit(session, COMPLETIONS_RETRACTED)
    retraction = CompletionRetracted(
        completion_id=completion_id,
        organisation=organisation,
        staff_id=view.staff_id,
        course_code=view.course_code,
        employee_number=view.matched_employee_number,
        reason=reason,
    )
    await publish(session, [retraction], caller=caller)
    after = await repository.get_view(session, completion_id)
    assert after is not None
    return after
