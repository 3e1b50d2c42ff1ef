"""Award rules versions, and awards: reads, legacy import, revocation with cascade."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import repository
from app.awards.evaluation import evaluate_awards
from app.awards.events import AwardEvidence, AwardGranted, AwardRevoked
from app.awards.facts import Level
from app.awards.rules_document import AwardRulesDocument
from app.awards.schemas import LegacyAwardIn
from app.core.clock import clock_skew, utcnow
from app.core.metrics import AWARDS_GRANTED, AWARDS_REVOKED, count_each_on_commit, count_on_commit
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from app.events.bus import publish
from app.models import Award, AwardEvaluationJob, AwardRules
from app.staff import repository as staff_repository
from app.staff.resolution import people_by_employee_number


@dataclass(frozen=True)
class AwardView:
    """An award with its holder's employee number and current organisation."""

    award: Award
    employee_number: str
    organisation: str


async def get_current_rules(session: AsyncSession) -> AwardRules:
    rules = await repository.current_rules(session)
    if rules is None:
        raise ServiceUnavailable("No award rules are stored: the database is not migrated.")
    return rules


async def get_rules(session: AsyncSession, version: int) -> tuple[AwardRules, bool]:
    """One rules version, and whether it is the current one."""
    rules = await repository.rules_version(session, version)
    if rules is None:
        raise NotFound(f"No award rules version {version}.")
    return rules, version == await repository.latest_rules_version(session)


async def create_rules(
    session: AsyncSession, caller: Caller, document: AwardRulesDocument
) -> AwardRules:
    """Stores the next rules version, which becomes current, and queues everyone's
    re-evaluation under it (jobs of older versions are superseded)."""
    version = await repository.latest_rules_version(session) + 1
    caller.note_audit("create", "awardRules", str(version))
    if caller.is_restricted:
        raise Forbidden(
            "Award rules apply to every organisation: only a client that is not limited to "
            "some organisations may change them."
        )
    rules = AwardRules(
        version=version,
        document=document.to_json(),
        created_at=utcnow(),
        created_by_client_id=caller.client_id,
    )
    session.add(rules)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"Award rules version {version} was created by another request at the same time; "
            "read the current rules and send yours again if they still apply."
        ) from None
    await repository.supersede_evaluation_jobs(session)
    session.add(AwardEvaluationJob(rules_version=version, status="pending", total=0, done=0))
    await session.flush()
    return rules


async def list_awards(
    session: AsyncSession,
    caller: Caller,
    page: PageRequest,
    *,
    level: Level | None,
    organisation: str | None,
    status: str | None,
    granted_since: datetime | None,
    updated_since: datetime | None,
) -> PageResult[repository.AwardRow]:
    caller.note_audit("list", "award", None, organisation)
    return await repository.list_awards(
        session,
        page,
        visible_to=caller.organisations,
        level=None if level is None else str(level),
        organisation=organisation,
        status=status,
        granted_since=granted_since,
        updated_since=updated_since,
    )


async def get_award(session: AsyncSession, caller: Caller, award_id: int) -> AwardView:
    return await _visible_award(session, caller, award_id, "read")


async def _visible_award(
    session: AsyncSession, caller: Caller, award_id: int, action: str
) -> AwardView:
    row = await repository.get_award(session, award_id)
    visible = row is not None and caller.may_access(row[2])
    caller.note_audit(action, "award", str(award_id), row[2] if row and visible else None)
    if row is None or not visible:
        raise NotFound(f"No award {award_id}.")
    return AwardView(*row)


async def staff_awards(
    session: AsyncSession, caller: Caller, employee_number: str
) -> list[AwardView]:
    """Every award of one person, active and revoked, oldest first."""
    member = await staff_repository.get_by_employee_number(session, employee_number)
    visible = member is not None and caller.may_access(member.organisation_ods_code)
    organisation = member.organisation_ods_code if member and visible else None
    caller.note_audit("read", "staffAwards", employee_number, organisation)
    if member is None or not visible:
        raise NotFound(f"No staff member {employee_number}.")
    awards = await repository.awards_of(session, member.id)
    return [AwardView(a, employee_number, member.organisation_ods_code) for a in awards]


async def record_legacy_award(
    session: AsyncSession, caller: Caller, body: LegacyAwardIn
) -> tuple[AwardView, bool]:
    """Records an award granted before this service; True when created. Sending the same
    award again (same person, level, grantedAt and reference) answers the stored one."""
    found = await people_by_employee_number(session, caller.organisations, [body.employee_number])
    member = found.get(body.employee_number)
    caller.note_audit("create", "award", None, member.organisation if member else None)
    if member is None:
        raise ValidationFailed(
            f"No staff member {body.employee_number}.",
            invalid_params=[("employeeNumber", "No such staff member.")],
        )
    if body.granted_at > utcnow() + clock_skew():
        raise ValidationFailed(
            "grantedAt is in the future.",
            invalid_params=[("grantedAt", "Must not be in the future.")],
        )
    await repository.lock_person(session, member.staff_id)
    existing = await repository.active_award(session, member.staff_id, str(body.level))
    if existing is not None:
        if _same_legacy_award(existing, body):
            return AwardView(existing, member.employee_number, member.organisation), False
        raise Conflict(
            f"Staff member {body.employee_number} already holds an active {body.level} award "
            f"({existing.id}); revoke it first to record another.",
            extensions={"existingAwardId": existing.id},
        )
    award = Award(
        staff_id=member.staff_id,
        level=str(body.level),
        attained_at=body.granted_at,
        granted_at=body.granted_at,
        rules_version=None,
        evidence={"completionIds": [], "projectIds": [], "legacyReference": body.reference},
        status="active",
    )
    session.add(award)
    try:
        await session.flush()
    except IntegrityError:  # the partial unique index: another request granted it first
        raise Conflict(
            f"Staff member {body.employee_number} already holds an active {body.level} award."
        ) from None
    view = AwardView(award, member.employee_number, member.organisation)
    await publish(session, [award_granted_event(view)], caller=caller)
    count_on_commit(session, AWARDS_GRANTED.labels(award.level, "legacy"))
    await evaluate_awards(session, [member.staff_id], caller)
    return view, True


def _same_legacy_award(existing: Award, body: LegacyAwardIn) -> bool:
    return (
        existing.rules_version is None
        and existing.evidence.get("legacyReference") == body.reference
        and existing.granted_at == body.granted_at
    )


async def revoke_award(
    session: AsyncSession, caller: Caller, award_id: int, reason: str
) -> tuple[AwardView, list[AwardView]]:
    """Revokes an award and, with it, the person's active awards of higher levels."""
    view = await _visible_award(session, caller, award_id, "revoke")
    await repository.lock_person(session, view.award.staff_id)
    await session.refresh(view.award)
    if view.award.status != "active":
        raise Conflict(
            f"Award {award_id} is already revoked.",
            extensions={"revokedAt": view.award.revoked_at.isoformat()}
            if view.award.revoked_at
            else None,
        )
    rank = Level(view.award.level).rank
    higher = [
        AwardView(a, view.employee_number, view.organisation)
        for a in await repository.awards_of(session, view.award.staff_id)
        if a.status == "active" and Level(a.level).rank > rank
    ]
    now = utcnow()
    revoke(view.award, now, reason, "administrator")
    for above in higher:
        revoke(above.award, now, reason, "levelBelowRevoked")
    await session.flush()
    events = [award_revoked_event(view)]
    events += [award_revoked_event(above, cascaded_from=award_id) for above in higher]
    await publish(session, events, caller=caller)
    count_on_commit(session, AWARDS_REVOKED.labels(view.award.level, "administrator"))
    count_each_on_commit(
        session, AWARDS_REVOKED, ((a.award.level, "levelBelowRevoked") for a in higher)
    )
    return view, higher


def revoke(award: Award, at: datetime, reason: str, cause: str) -> None:
    award.status, award.revoked_at = "revoked", at
    award.revoked_reason, award.revocation_cause = reason, cause


def award_granted_event(view: AwardView) -> AwardGranted:
    award = view.award
    return AwardGranted(
        award_id=award.id,
        organisation=view.organisation,
        staff_id=award.staff_id,
        employee_number=view.employee_number,
        level=award.level,
        attained_at=award.attained_at,
        granted_at=award.granted_at,
        rules_version=award.rules_version,
        evidence=AwardEvidence.of(award.evidence),
    )


def award_revoked_event(view: AwardView, cascaded_from: int | None = None) -> AwardRevoked:
    award = view.award
    assert award.revoked_reason is not None and award.revocation_cause is not None
    return AwardRevoked(
        award_id=award.id,
        organisation=view.organisation,
        staff_id=award.staff_id,
        employee_number=view.employee_number,
        level=award.level,
        reason=award.revoked_reason,
        cause=award.revocation_cause,
        cascaded_from=cascaded_from,
    )
