"""Persist the difference: given a person's facts, which awards to grant and which to revoke.

Pure, like the rules: evaluation gathers the facts, calls ``plan_award_changes`` and writes
what it says (awards, ``awardGranted`` / ``awardRevoked`` events) in the same transaction.

- **Awards stand when the rules change.** An active award is revoked (``evidenceRetracted``)
  only when evidence it names is no longer among the facts *and* its level is no longer
  reached under the rules version it was granted under. Legacy awards name no evidence and
  are never revoked here.
- **Cascade**: a revoked award takes with it the person's rules-granted awards of higher
  levels (``levelBelowRevoked``): they needed it. Legacy awards above did not, and stand.
- **Dates from the evidence**: an active rules-granted award that stands is dated again, under
  the rules version it was granted under, when its level was reached earlier than it says
  (earlier evidence arrived: platforms backfill history) or the evidence it rests on has gone;
  it then names the evidence it now rests on. Lowest level first, so a level above counts from
  the new date of the level below. Legacy awards keep the date they were recorded with.
- **Grants**, after the revocations, under the current rules: each level reached by evidence
  and not held is granted as attained at ``reached_at``, resting on the earliest evidence that
  met it, lowest first, and only when the level below is held or granted with it. Evidence an
  administrator's revocation named does not earn that level again on its own: only new
  evidence does.

So what an award says (when attained, on which evidence) follows from the facts alone, whatever
order or grouping the evidence arrived in.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from app.awards.facts import LEVELS, AwardFact, CourseFact, Level, PersonFacts
from app.awards.rules import (
    Decision,
    counting_courses,
    courses_met,
    courses_met_by,
    decide,
    levels_evidence_may_reach,
)
from app.awards.rules_document import AwardRulesDocument

EVIDENCE_RETRACTED = "evidenceRetracted"
EVIDENCE_ADDED = "evidenceAdded"
LEVEL_BELOW_REVOKED = "levelBelowRevoked"


@dataclass(frozen=True)
class Grant:
    level: Level
    attained_at: datetime  # when the evidence completed the level
    rules_version: int
    completion_ids: tuple[int, ...]
    project_ids: tuple[int, ...]


@dataclass(frozen=True)
class Redating:
    """An active award dated again from its evidence, and the evidence it now rests on."""

    award_id: int
    level: Level
    attained_at: datetime
    previous_attained_at: datetime
    completion_ids: tuple[int, ...]
    project_ids: tuple[int, ...]
    cause: str  # evidenceRetracted (evidence it named has gone) or evidenceAdded


@dataclass(frozen=True)
class Revocation:
    award_id: int
    level: Level
    cause: str  # evidenceRetracted, or levelBelowRevoked (then cascaded_from says which)
    cascaded_from: int | None = None


@dataclass(frozen=True)
class AwardChanges:
    revocations: tuple[Revocation, ...]
    grants: tuple[Grant, ...]
    _decide: Callable[[], Decision] = field(repr=False, compare=False)
    redatings: tuple[Redating, ...] = ()

    @cached_property
    def decision(self) -> Decision:
        """Under the current rules, with the awards left after revocations. Made when asked
        for: writing the changes needs only the grants and revocations."""
        return self._decide()

    @property
    def empty(self) -> bool:
        return not self.revocations and not self.grants and not self.redatings


def plan_award_changes(
    facts: PersonFacts,
    *,
    rules: Mapping[int, AwardRulesDocument],
    current_version: int,
    courses: Mapping[str, CourseFact],
    bronze_courses: Mapping[str, tuple[bool, float | None]] | None = None,
) -> AwardChanges:
    """What to write for this person. ``rules`` holds the current version and every version
    an active award of theirs was granted under. ``bronze_courses``: the current rules'
    ``counting_courses``, when the caller plans for many people under them."""
    if not facts.awards and not facts.projects and not facts.revoked_by_administrator:
        current = rules[current_version]
        if bronze_courses is None:
            bronze_courses = counting_courses(current.levels.bronze, courses)
        return _bronze_at_most(facts, current, current_version, courses, bronze_courses)
    return plan_in_full(facts, rules=rules, current_version=current_version, courses=courses)


def _bronze_at_most(
    facts: PersonFacts,
    rules: AwardRulesDocument,
    version: int,
    courses: Mapping[str, CourseFact],
    bronze_courses: Mapping[str, tuple[bool, float | None]],
) -> AwardChanges:
    """``plan_in_full`` for someone who holds no award, is on no project and had no award
    revoked by an administrator (everyone a completion batch makes a Bronze holder): nothing to
    revoke, and Bronze the only level they can reach, when its course criterion is met."""
    met_at, good, _ = courses_met(
        facts.completions, bronze_courses, rules.levels.bronze.minimum_courses
    )
    grants: tuple[Grant, ...] = ()
    if met_at is not None:
        met_by = courses_met_by(good, rules.levels.bronze.minimum_courses)
        grants = (Grant(Level.BRONZE, met_at, version, met_by, ()),)
    return AwardChanges(
        (), grants, lambda: decide(facts, rules, rules_version=version, courses=courses)
    )


def plan_in_full(
    facts: PersonFacts,
    *,
    rules: Mapping[int, AwardRulesDocument],
    current_version: int,
    courses: Mapping[str, CourseFact],
) -> AwardChanges:
    revocations = _revocations(facts, rules, courses)
    revoked = {r.award_id for r in revocations}
    remaining = tuple(a for a in facts.awards if a.id not in revoked)
    redatings, dated = _redatings(replace(facts, awards=remaining), rules, courses)
    decision = decide(
        replace(facts, awards=dated) if revoked or redatings else facts,
        rules[current_version],
        rules_version=current_version,
        courses=courses,
    )
    grants = _grants(decision, dated, facts.revoked_by_administrator)
    return AwardChanges(
        revocations=tuple(revocations),
        grants=grants,
        _decide=lambda: decision,
        redatings=tuple(redatings),
    )


def _redatings(
    facts: PersonFacts,
    rules: Mapping[int, AwardRulesDocument],
    courses: Mapping[str, CourseFact],
) -> tuple[list[Redating], tuple[AwardFact, ...]]:
    """The active rules-granted awards that their evidence now dates otherwise, lowest level
    first (an award is looked at when evidence it named has gone, evidence it does not name
    comes before it, or the award below was dated again); and the awards as they are then."""
    completions = {c.id for c in facts.completions}
    projects = {p.id for p in facts.projects}
    redatings: list[Redating] = []
    dated: list[AwardFact] = []
    for award in sorted(facts.awards, key=lambda a: (a.level.rank, a.id)):
        version = award.rules_version
        if version is not None and (redatings or _may_move(award, facts, completions, projects)):
            # As when it was granted: the awards below (as dated now), and legacy awards of its
            # level or above (a legacy Gold holder has attained Bronze); never a rules-granted
            # award above, which needed this one.
            vouching = (
                *(a for a in dated if a.level.rank < award.level.rank),
                *(
                    a
                    for a in facts.awards
                    if a.legacy and a.level.rank >= award.level.rank and a.id != award.id
                ),
            )
            result = decide(
                replace(facts, awards=vouching),
                rules[version],
                rules_version=version,
                courses=courses,
            ).at(award.level)
            completion_ids, project_ids = result.evidence
            gone = not (award.completion_ids <= completions and award.project_ids <= projects)
            if result.reached_at is not None and (
                gone
                or result.reached_at != award.attained_at
                or not set(completion_ids) <= award.completion_ids
                or not set(project_ids) <= award.project_ids
            ):
                redatings.append(
                    Redating(
                        award.id,
                        award.level,
                        result.reached_at,
                        award.attained_at,
                        completion_ids,
                        project_ids,
                        EVIDENCE_RETRACTED if gone else EVIDENCE_ADDED,
                    )
                )
                award = replace(
                    award,
                    attained_at=result.reached_at,
                    completion_ids=frozenset(completion_ids),
                    project_ids=frozenset(project_ids),
                )
        dated.append(award)
    return redatings, tuple(dated)


def _revocations(
    facts: PersonFacts,
    rules: Mapping[int, AwardRulesDocument],
    courses: Mapping[str, CourseFact],
) -> list[Revocation]:
    completions = {c.id for c in facts.completions}
    projects = {p.id for p in facts.projects}
    revoked: dict[int, Revocation] = {}
    for award in sorted(facts.awards, key=lambda a: (a.level.rank, a.id)):
        if award.id in revoked or award.rules_version is None:
            continue
        if award.completion_ids <= completions and award.project_ids <= projects:
            continue
        if _still_reached(facts, award, rules[award.rules_version], courses, set(revoked)):
            continue
        revoked[award.id] = Revocation(award.id, award.level, EVIDENCE_RETRACTED)
        for above in facts.awards:
            if (
                above.level.rank > award.level.rank
                and above.rules_version is not None
                and above.id not in revoked
            ):
                revoked[above.id] = Revocation(
                    above.id, above.level, LEVEL_BELOW_REVOKED, cascaded_from=award.id
                )
    return sorted(revoked.values(), key=lambda r: (r.level.rank, r.award_id))


def _still_reached(
    facts: PersonFacts,
    award: AwardFact,
    rules: AwardRulesDocument,
    courses: Mapping[str, CourseFact],
    revoked: set[int],
) -> bool:
    """Is the award's level reached under its own rules, by what is left? The award itself
    and those above it are left out: holding Silver must not vouch for Silver's own Bronze."""
    below = tuple(
        a for a in facts.awards if a.level.rank < award.level.rank and a.id not in revoked
    )
    decision = decide(
        replace(facts, awards=below),
        rules,
        rules_version=award.rules_version or 0,
        courses=courses,
    )
    return decision.at(award.level).reached


def _grants(
    decision: Decision, held: tuple[AwardFact, ...], refused: tuple[AwardFact, ...]
) -> tuple[Grant, ...]:
    held_levels = {a.level for a in held}
    grants: list[Grant] = []
    for level in LEVELS:
        result = decision.at(level)
        if level in held_levels or not result.reached or result.reached_at is None:
            continue
        below_ok = (
            level.rank == 0
            or any(a.level.rank >= level.rank - 1 for a in held)
            or any(g.level.rank == level.rank - 1 for g in grants)
        )
        refused_before = any(
            r.level is level
            and set(result.completion_ids) <= r.completion_ids
            and set(result.project_ids) <= r.project_ids
            for r in refused
        )
        if below_ok and not refused_before:
            completion_ids, project_ids = result.evidence
            grants.append(
                Grant(
                    level=level,
                    attained_at=result.reached_at,
                    rules_version=decision.rules_version,
                    completion_ids=completion_ids,
                    project_ids=project_ids,
                )
            )
    return tuple(grants)


def may_change(facts: PersonFacts) -> bool:
    """False when no rules document can change this person's awards, so evaluation may skip
    them: every active award's evidence is still there (nothing to revoke), no evidence it
    does not name is earlier than it (nothing to date again), and no level that is not held
    can be reached (``rules.levels_evidence_may_reach``). Most people, at scale, hold Bronze
    and have no project."""
    completions = {c.id for c in facts.completions}
    projects = {p.id for p in facts.projects}
    if any(
        a.rules_version is not None and _may_move(a, facts, completions, projects)
        for a in facts.awards
    ):
        return True
    held = {a.level for a in facts.awards}
    return bool(levels_evidence_may_reach(facts) - held)


def _may_move(
    award: AwardFact, facts: PersonFacts, completions: set[int], projects: set[int]
) -> bool:
    """Might the evidence date this (rules-granted) award otherwise? When evidence it named
    has gone, or evidence it does not name comes before it: a completion for Bronze, an
    approved project above (which is dated by its projects and the award below, and that
    award is looked at in its turn)."""
    if not (award.completion_ids <= completions and award.project_ids <= projects):
        return True
    if award.level is Level.BRONZE:
        return any(
            _before(c.completed_at, c.id, award)
            for c in facts.completions
            if c.id not in award.completion_ids
        )
    return any(
        _before(p.approved_at, p.id, award) for p in facts.projects if p.id not in award.project_ids
    )


def _before(time: datetime, evidence_id: int, award: AwardFact) -> bool:
    """Would this evidence come before the award's own (by time, then id)?"""
    if time != award.attained_at:
        return time < award.attained_at
    return evidence_id < min((*award.completion_ids, *award.project_ids), default=evidence_id + 1)
