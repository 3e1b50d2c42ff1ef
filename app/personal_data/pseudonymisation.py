"""Pseudonymising a person: their names and e-mail replaced, free text naming them redacted.

What aggregates need stays as it was: organisation, staff group, board membership, dates,
completions, awards and their levels. Uptake figures before and after are the same because
nothing they are counted from changes. The employee number stays: it is the key that only the
employer's HR system can turn back into a person, which is what makes this pseudonymisation
(UK GDPR article 4(5)) rather than erasure of the record of training.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions.xapi_statements import agent_key
from app.core.bulk import insert_rows
from app.core.clock import utcnow
from app.events.bus import publish
from app.models import AuditRecord, StaffMember, StaffPseudonymisation
from app.personal_data import repository
from app.personal_data.events import StaffPseudonymised

NAME_REMOVED = "[name removed]"
EMAIL_REMOVED = "[e-mail removed]"


@dataclass(frozen=True)
class Redaction:
    """What identifies the person in free text, and how to take it out."""

    pattern: re.Pattern[str]
    emails: frozenset[str]
    needles: tuple[str, ...]

    @classmethod
    def of(cls, member: StaffMember) -> "Redaction":
        names = [f"{member.given_name} {member.family_name}", member.family_name, member.given_name]
        emails = [member.work_email] if member.work_email else []
        local_parts = [e.split("@", 1)[0] for e in emails]
        needles = sorted({n.strip() for n in [*emails, *names, *local_parts] if n.strip()}, key=len)
        needles.reverse()  # the longest first: the full name before its parts
        alternatives = "|".join(re.escape(n) for n in needles)
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return cls(pattern, frozenset(e.casefold() for e in emails), tuple(needles))

    def text(self, value: str) -> str:
        return self.pattern.sub(self._replacement, value)

    def _replacement(self, match: re.Match[str]) -> str:
        return EMAIL_REMOVED if match.group(0).casefold() in self.emails else NAME_REMOVED

    def document(self, value: Any) -> Any:
        """A JSON document with every string (keys too) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.document(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.document(v) for k, v in value.items()}
        return value


@dataclass(frozen=True)
class Origin:
    """Why and by whom: a request (erasure) or a retention job."""

    cause: str  # "retention" or "erasure"
    caller: Caller | None
    retention_job_id: int | None = None
    erasure_request_id: int | None = None

    @property
    def request_id(self) -> str:
        if self.caller is not None:
            return self.caller.request_id
        return f"retentionJob-{self.retention_job_id}"


def pseudonym_of(member: StaffMember) -> str:
    return repository.pseudonym_of(member.id)


def statement_without(
    value: Any, agent_keys: frozenset[str], pseudonym: dict[str, Any], redaction: Redaction
) -> Any:
    """A stored xAPI statement with every agent that is the person (actor, object, instructor,
    team member, in a SubStatement too) replaced by ``pseudonym`` and their names and e-mail
    redacted from the rest; verb, object, result, context and times stay as they were."""
    if isinstance(value, dict):
        key = agent_key(value)
        if key is not None and key.casefold() in agent_keys:
            return {**pseudonym, "objectType": value.get("objectType", "Agent")}
        return {
            redaction.text(k): statement_without(v, agent_keys, pseudonym, redaction)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [statement_without(v, agent_keys, pseudonym, redaction) for v in value]
    return redaction.document(value)


async def _pseudonymise_statements(
    session: AsyncSession,
    footprint: repository.Footprint,
    member: StaffMember,
    redaction: Redaction,
) -> None:
    pseudonym = repository.pseudonymous_agent(pseudonym_of(member))
    keys = frozenset(k.casefold() for k in footprint.agent_keys)
    rewritten = {
        pk: changed
        for pk, statement in (await repository.statements(session, footprint)).items()
        if (changed := statement_without(statement, keys, pseudonym, redaction)) != statement
    }
    await repository.rewrite_statements(
        session, footprint, rewritten, keys, agent_key(pseudonym) or ""
    )


async def pseudonymise(session: AsyncSession, member: StaffMember, origin: Origin) -> bool:
    """Pseudonymises the (locked) person in the current transaction, audited and announced;
    False when they were pseudonymised already."""
    if await repository.is_pseudonymised(session, member.id):
        return False
    footprint = await repository.footprint(session, member)
    redaction = Redaction.of(member)
    for row in await repository.texts_naming(session, footprint, redaction.needles):
        changed = {
            column: redaction.document(value)
            for column, value in row.values.items()
            if value is not None and redaction.document(value) != value
        }
        if changed:
            await repository.rewrite_texts(session, row, changed)
    await _pseudonymise_statements(session, footprint, member, redaction)
    await repository.forget_documents(session, footprint)
    await repository.forget_identifiers(session, footprint, pseudonym_of(member))
    now = utcnow()
    session.add(
        StaffPseudonymisation(
            staff_id=member.id,
            pseudonymised_at=now,
            cause=origin.cause,
            retention_job_id=origin.retention_job_id,
            erasure_request_id=origin.erasure_request_id,
        )
    )
    await session.flush()
    pseudonymised = StaffPseudonymised(
        member.organisation_ods_code, member.employee_number, origin.cause
    )
    await publish(session, [pseudonymised], caller=origin.caller)
    await insert_rows(
        session,
        AuditRecord.__table__,
        [
            {
                "occurred_at": now,
                "client_id": origin.caller.client_id if origin.caller else None,
                "action": "pseudonymise",
                "resource_type": "staff",
                "resource_id": member.employee_number,
                "organisation_ods_code": member.organisation_ods_code,
                "request_id": origin.request_id,
                "outcome": "success",
                "status_code": None,
            }
        ],
    )
    await session.refresh(member)
    return True
