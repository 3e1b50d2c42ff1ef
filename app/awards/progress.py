"""Reading the rules' view without changing anything: one person's progress explained, a
candidate rules document previewed over everyone, and the re-evaluation job's progress."""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import gathering
from app.awards.changes import may_change, plan_award_changes
from app.awards.evaluation import current_rules_version
from app.awards.facts import Level
from app.awards.rules import Decision, decide
from app.awards.rules_document import AwardRulesDocument
from app.core.problems import NotFound
from app.models import AwardEvaluationJob, AwardRules, StaffMember
from app.staff import repository as staff_repository

PREVIEW_CHUNK = 5000


@dataclass(frozen=True)
class Progress:
    member: StaffMember
    decision: Decision


@dataclass(frozen=True)
class Preview:
    current_rules_version: int
    evaluated: int
    # organisation → level → people newly granted it
    by_organisation: dict[str, Counter[Level]]

    def total(self, level: Level) -> int:
        return sum(counts[level] for counts in self.by_organisation.values())


async def staff_progress(session: AsyncSession, caller: Caller, employee_number: str) -> Progress:
    """The person's level and, for every criterion of every level, why (current rules)."""
    member = await staff_repository.get_by_employee_number(session, employee_number)
    visible = member is not None and caller.may_access(member.organisation_ods_code)
    organisation = member.organisation_ods_code if member and visible else None
    caller.note_audit("read", "staffProgress", employee_number, organisation)
    if member is None or not visible:
        raise NotFound(f"No staff member {employee_number}.")
    version = await current_rules_version(session)
    rules = await gathering.rules_documents(session, [version])
    facts = await gathering.gather_facts(session, [member.id])
    decision = decide(
        facts[member.id],
        rules[version],
        rules_version=version,
        courses=await gathering.course_catalogue(session),
    )
    return Progress(member, decision)


async def preview_rules(
    session: AsyncSession, caller: Caller, candidate: AwardRulesDocument
) -> Preview:
    """Who would newly reach each level if ``candidate`` became the next version, by
    organisation: everyone visible to the caller, in chunks, decided in memory. Writes
    nothing."""
    caller.note_audit("preview", "awardRules")
    current = await current_rules_version(session)
    versions = list(await session.scalars(select(AwardRules.version)))
    rules = await gathering.rules_documents(session, versions)
    rules[current + 1] = candidate
    courses = await gathering.course_catalogue(session)
    by_organisation: dict[str, Counter[Level]] = {}
    evaluated, after = 0, 0
    while people := await gathering.people_after(
        session, after, PREVIEW_CHUNK, lock=False, organisations=caller.organisations
    ):
        facts = await gathering.gather_facts(session, list(people))
        for staff_id, person in facts.items():
            if not may_change(person):
                continue
            plan = plan_award_changes(
                person, rules=rules, current_version=current + 1, courses=courses
            )
            if plan.grants:
                counts = by_organisation.setdefault(people[staff_id].organisation, Counter())
                counts.update(grant.level for grant in plan.grants)
        evaluated += len(people)
        after = max(people)
    return Preview(current, evaluated, dict(sorted(by_organisation.items())))


async def evaluation_job(session: AsyncSession, version: int) -> AwardEvaluationJob:
    job = await session.scalar(
        select(AwardEvaluationJob).where(AwardEvaluationJob.rules_version == version)
    )
    if job is None:
        exists = await session.get(AwardRules, version)
        raise NotFound(
            f"No re-evaluation under award rules version {version}: "
            + ("it was installed with the service." if exists else "no such version.")
        )
    return job
