"""xAPI statements: every valid one is stored as received (evidence); those that mean a
completion (completed, passed or failed, on an activity a course lists, by an actor this
service identifies people by) become completions, whose external id is the statement id. The
same statement id with other content is a 409; a voiding statement retracts what it voids."""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import repository as completions_repository
from app.completions import service, xapi_attachments, xapi_repository
from app.completions.records import completion_row
from app.completions.rows import CompletionRow
from app.completions.schemas import MAX_BATCH_RECORDS, Channel
from app.completions.xapi_multipart import AttachmentPart
from app.completions.xapi_repository import StatementLink, StatementRow
from app.completions.xapi_statements import Statement, parse_statement
from app.completions.xapi_validation import Malformed
from app.core.clock import clock_skew, utcnow
from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN
from app.core.problems import Conflict, NotFound, PayloadTooLarge
from app.courses.repository import courses_by_activity
from app.models import ApiClient

VERBS = "http://adlnet.gov/expapi/verbs/"
# Verb → what it says of a pass when result.success does not say it.
COMPLETION_VERBS: dict[str, bool | None] = {
    VERBS + "completed": None,
    VERBS + "passed": True,
    VERBS + "failed": False,
}
_EMPLOYEE_NUMBER = re.compile(EMPLOYEE_NUMBER_PATTERN)


async def receive_statements(
    session: AsyncSession,
    caller: Caller,
    raw: Any,
    *,
    version: str,
    authority_home_page: str,
    statement_id: str | None = None,
    parts: Mapping[str, AttachmentPart] | None = None,
) -> list[str]:
    """Stores these statements as received (all or none), the raw data of their attachments
    (``parts`` by sha2, when sent as multipart/mixed; None for application/json) and the
    completions among them; voids what their voiding statements void. Their ids, in order."""
    caller.note_audit("create", "xapiStatement", statement_id, None)
    many = isinstance(raw, list)
    items = raw if many else [raw]
    if len(items) > MAX_BATCH_RECORDS:  # as for completion batches
        raise PayloadTooLarge(f"At most {MAX_BATCH_RECORDS} statements per request.")
    statements = [
        parse_statement(item, f"{index}." if many else "", statement_id, version)
        for index, item in enumerate(items)
    ]
    seen: set[str] = set()
    for statement in statements:
        if statement.id in seen:
            raise Malformed(statement.where, "id", "Sent twice in one request.")
        seen.add(statement.id)
    attachments = xapi_attachments.matched_attachments(
        statements, parts or {}, multipart=parts is not None
    )
    now = utcnow()
    new = await _store(session, caller, statements, now, version, authority_home_page)
    await xapi_repository.insert_attachments(session, attachments, now)
    await _record_completions(session, caller, [s for s in statements if s.id in new], now)
    await _void(session, caller, [s for s in statements if s.id in new and s.voids])
    return [s.id for s in statements]


async def _store(
    session: AsyncSession,
    caller: Caller,
    statements: Sequence[Statement],
    now: datetime,
    version: str,
    authority_home_page: str,
) -> set[str]:
    """Stores the statements not stored before; the ids of those. A repeat with other content
    is a 409 (and nothing is stored)."""
    named = await xapi_repository.named_statements(
        session, sorted({s.statement_ref for s in statements if s.statement_ref})
    )
    voiding = {statement_id for statement_id, is_voiding in named.items() if is_voiding}
    voiding |= {s.id for s in statements if s.voids}
    for statement in statements:
        if statement.voids in voiding:
            raise Malformed(statement.where, "object.id", "A voiding statement cannot be voided.")
    authority = {
        "objectType": "Agent",
        "account": {"homePage": authority_home_page, "name": caller.client_id},
    }
    rows = [
        StatementRow(  # by position (CompletionView.recorded says why)
            s.id,
            caller.client_id,
            now,  # stored_at
            s.verb_id,
            s.registration,
            False,  # voided
            s.voids,
            s.statement_ref,
            s.content_hash,
            as_stored(s, now, version, authority),
        )
        for s in statements
    ]
    await _lock_references(session, statements, named)
    inserted = await xapi_repository.insert_statements(session, rows)
    repeats = [s for s in statements if s.id not in inserted]
    stored = await xapi_repository.content_hashes(session, [s.id for s in repeats])
    conflicts = [s.id for s in repeats if stored.get(s.id) != s.content_hash]
    if conflicts:
        raise Conflict(
            f"Statement {conflicts[0]} was received before with other content.",
            invalid_params=[
                ("id", f"{i} was received before with other content.") for i in conflicts
            ],
        )
    await xapi_repository.insert_links(
        session,
        [
            StatementLink(inserted[s.id], kind, key, direct)
            for s in statements
            if s.id in inserted
            for kind, links in (("agent", s.agents), ("activity", s.activities))
            for key, direct in links.items()
        ],
    )
    await xapi_repository.copy_reference_keys(
        session, inserted, {s.id for s in statements if s.statement_ref and s.id in inserted}
    )
    return set(inserted)


async def _lock_references(
    session: AsyncSession, statements: Sequence[Statement], stored: Mapping[str, bool]
) -> None:
    """So that a statement and the one naming it by StatementRef, stored by two requests at
    the same moment, are linked all the same (``xapi_repository.lock_references``); ``stored``:
    the named statements found stored."""
    ids = {s.id for s in statements}
    missing = {
        s.statement_ref
        for s in statements
        if s.statement_ref and s.statement_ref not in ids and s.statement_ref not in stored
    }
    await xapi_repository.lock_references(session, [s.id for s in statements], sorted(missing))


def as_stored(
    statement: Statement, now: datetime, version: str, authority: dict[str, Any]
) -> dict[str, Any]:
    """The statement as this LRS keeps and answers it: with its id, stored time, timestamp,
    authority (the client that sent it) and version."""
    stored = now.isoformat().replace("+00:00", "Z")
    return {
        **_with_context_arrays(statement.raw),
        "id": statement.id,
        "timestamp": statement.raw.get("timestamp", stored),
        "stored": stored,
        "authority": authority,
        "version": statement.raw.get("version", "1.0.0" if version.startswith("1.") else "2.0.0"),
    }


def _with_context_arrays(raw: dict[str, Any]) -> dict[str, Any]:
    """A single context activity is kept as an array of one, as the specification says an LRS
    returns it (in the statement and in a SubStatement)."""
    answered = dict(raw)
    context = raw.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        grouped = context["contextActivities"]
        answered["context"] = {
            **context,
            "contextActivities": {
                name: listed if isinstance(listed, list) else [listed]
                for name, listed in grouped.items()
            },
        }
    target = raw.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        answered["object"] = _with_context_arrays(target)
    return answered


async def _record_completions(
    session: AsyncSession, caller: Caller, statements: Sequence[Statement], now: datetime
) -> None:
    """The completions among newly stored statements."""
    candidates = [
        s
        for s in statements
        if s.verb_id in COMPLETION_VERBS
        and s.activity_id is not None
        and s.completion is not False
        and not s.actor.is_group
        and (s.score_scaled is None or s.score_scaled >= 0)
        and (s.timestamp is None or s.timestamp <= now + clock_skew())
    ]
    courses = await courses_by_activity(session, [s.activity_id or "" for s in candidates])
    candidates = [s for s in candidates if s.activity_id in courses]
    home_page = None
    if any(s.actor.account_home_page for s in candidates):
        home_page = await session.scalar(
            select(ApiClient.xapi_account_home_page).where(ApiClient.client_id == caller.client_id)
        )
    rows = [
        row
        for s in candidates
        if (row := _completion(s, courses[s.activity_id or ""], home_page, caller.client_id, now))
        is not None
    ]
    recorded = await service.record_completions(session, caller, rows)
    if recorded.conflicts:
        ids = [row.external_id for row, _, _ in recorded.conflicts]
        raise Conflict(
            f"Statement {ids[0]} was received before with other content.",
            invalid_params=[("id", f"{i} was received before with other content.") for i in ids],
        )


async def _void(session: AsyncSession, caller: Caller, voiding: Sequence[Statement]) -> None:
    """Voids the stored statements these name (a restricted client, only those it sent), and
    retracts the completions they made, as DELETE /completions/{id} does."""
    sent_by = caller.client_id if caller.is_restricted else None
    voided = await xapi_repository.void(session, [s.voids or "" for s in voiding], sent_by=sent_by)
    by_target = {s.voids: s.id for s in voiding}
    for target, sender in voided:
        views = await completions_repository.views_by_external_id(session, sender, [target])
        view = views.get(target)
        if view is None:
            continue
        try:
            await service.retract_completion(
                session, caller, view.id, f"Voided by xAPI statement {by_target[target]}."
            )
        except NotFound:
            continue  # a completion the caller cannot read stays as it is


def _completion(
    statement: Statement,
    course: tuple[int, str],
    home_page: str | None,
    client_id: str,
    now: datetime,
) -> CompletionRow | None:
    """The completion row a statement makes, or None when its actor is not one this service
    identifies people by (openid, an account of another homePage or not an employee number)."""
    actor = statement.actor
    if actor.openid is not None:
        return None
    employee_number = None
    if actor.account_home_page is not None:
        if home_page is None or _normalise(actor.account_home_page) != _normalise(home_page):
            return None
        if not _EMPLOYEE_NUMBER.match(actor.account_name or ""):
            return None
        employee_number = actor.account_name
    completed_at = statement.timestamp or now
    passed = statement.success
    if passed is None:
        passed = COMPLETION_VERBS[statement.verb_id]
    course_id, course_code = course
    return completion_row(
        client_id=client_id,
        external_id=statement.id,
        channel=Channel.XAPI,
        course_id=course_id,
        course_code=course_code,
        employee_number=employee_number,
        work_email=actor.email,
        email_sha1=actor.mbox_sha1sum,
        completed_at=completed_at,
        passed=passed,
        score_scaled=statement.score_scaled,
        now=now,
        content_hash=statement.content_hash,
    )


def _normalise(home_page: str) -> str:
    return home_page.rstrip("/").casefold()


def version_answered(requested: str) -> str:
    """The version this service answers in, for a supported request version."""
    return "2.0.0" if requested.startswith("2.") else "1.0.3"


__all__: Sequence[str] = ["COMPLETION_VERBS", "receive_statements", "version_answered"]
