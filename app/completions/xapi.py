"""xAPI statements that become completions: completed, passed or failed, on an activity a
course lists, by an actor this service can identify. Everything else is acknowledged and not
stored. A statement's id is its external id: the same id with other content is a 409."""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import service
from app.completions.records import completion_row
from app.completions.schemas import MAX_BATCH_RECORDS, Channel
from app.completions.xapi_statements import Malformed, Statement, parse_statement
from app.core.clock import clock_skew, utcnow
from app.core.problems import Conflict, PayloadTooLarge
from app.courses.repository import courses_by_activity
from app.models import ApiClient
from app.staff.schemas import EMPLOYEE_NUMBER_PATTERN

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
    statement_id: str | None = None,
) -> list[str]:
    """Stores the completions among these statements (all or none); their ids, in order."""
    caller.note_audit("create", "xapiStatement", statement_id, None)
    many = isinstance(raw, list)
    items = raw if many else [raw]
    if len(items) > MAX_BATCH_RECORDS:  # as for completion batches
        raise PayloadTooLarge(f"At most {MAX_BATCH_RECORDS} statements per request.")
    statements = [
        parse_statement(item, f"{index}." if many else "", statement_id)
        for index, item in enumerate(items)
    ]
    seen: set[str] = set()
    for statement in statements:
        if statement.id in seen:
            raise Malformed(statement.where, "id", "Sent twice in one request.")
        seen.add(statement.id)
    candidates = [
        s
        for s in statements
        if s.verb_id in COMPLETION_VERBS
        and s.activity_id is not None
        and s.completion is not False
        and not s.actor.is_group
    ]
    courses = await courses_by_activity(session, [s.activity_id or "" for s in candidates])
    candidates = [s for s in candidates if s.activity_id in courses]
    home_page = None
    if any(s.actor.account_home_page for s in candidates):
        home_page = await session.scalar(
            select(ApiClient.xapi_account_home_page).where(ApiClient.client_id == caller.client_id)
        )
    now = utcnow()
    rows = [
        _completion(s, courses[s.activity_id or ""], home_page, caller.client_id, now)
        for s in candidates
    ]
    recorded = await service.record_completions(session, caller, rows)
    if recorded.conflicts:
        ids = [row["external_id"] for row, _, _ in recorded.conflicts]
        raise Conflict(
            f"Statement {ids[0]} was received before with other content.",
            invalid_params=[("id", f"{i} was received before with other content.") for i in ids],
        )
    return [s.id for s in statements]


def _completion(
    statement: Statement,
    course: tuple[int, str],
    home_page: str | None,
    client_id: str,
    now: datetime,
) -> dict[str, Any]:
    where, actor = statement.where, statement.actor
    if actor.openid is not None:
        raise Malformed(where, "actor.openid", "Use account, mbox or mbox_sha1sum for people.")
    employee_number = None
    if actor.account_home_page is not None:
        if home_page is None or _normalise(actor.account_home_page) != _normalise(home_page):
            raise Malformed(
                where,
                "actor.account.homePage",
                "Not the account homePage configured for this client"
                + (f" ({home_page})." if home_page else ": none is."),
            )
        if not _EMPLOYEE_NUMBER.match(actor.account_name or ""):
            raise Malformed(where, "actor.account.name", "Not an employee number.")
        employee_number = actor.account_name
    if statement.score_scaled is not None and statement.score_scaled < 0:
        raise Malformed(where, "result.score.scaled", "A course score is between 0 and 1.")
    completed_at = statement.timestamp or now
    if completed_at > now + clock_skew():
        raise Malformed(where, "timestamp", "Is in the future.")
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
