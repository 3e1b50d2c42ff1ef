"""The award rules: one person's facts and a rules document in, a decision out.

Pure: no session, no HTTP, no clock. The same facts always give the same decision, whatever
order they come in. Levels are cumulative; for every criterion of every level the decision
says whether it is met, by which evidence, since when, and what is still missing.

A level is *reached* when all its criteria are met by evidence (its ``reached_at`` is when the
evidence completed it: the latest of each criterion's earliest-satisfying time, whatever order
the evidence arrived in; the earliest evidence that met each criterion is what an award of the
level rests on). A level is
*attained* when it is reached or the person holds an active award of it or of a level above
(a legacy Gold holder has attained Bronze). "The level below" is met by the level below being
attained, so a legacy Bronze holder can go on to Silver.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.awards.facts import (
    LEVELS,
    AwardFact,
    CompletionFact,
    CourseFact,
    Level,
    PersonFacts,
    ProjectFact,
)
from app.awards.rules_document import (
    DEFAULT_RULES,
    AwardRulesDocument,
    BronzeRequirements,
    GoldRequirements,
    SilverRequirements,
)

__all__ = [
    "DEFAULT_RULES",
    "AwardRulesDocument",
    "CriterionResult",
    "Decision",
    "LevelResult",
    "courses_criterion",
    "courses_met",
    "courses_met_by",
    "decide",
    "levels_evidence_may_reach",
]


def levels_evidence_may_reach(facts: PersonFacts) -> set[Level]:
    """The levels some rules document could grant on this person's evidence, whatever its
    thresholds: Bronze needs a completion; Silver and Gold need an approved project (Silver
    one the person was on, Gold one they mentored), and the level below."""
    if facts.projects:
        return set(LEVELS)
    return {Level.BRONZE} if facts.completions else set()


@dataclass(frozen=True)
class CriterionResult:
    name: str  # "courses", "projects", "mentoredProjects" or "levelBelow"
    description: str
    met: bool
    required: int
    counted: int
    met_at: datetime | None
    missing: str | None  # what would meet it, e.g. "1 more mentored project"
    completion_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    award_ids: tuple[int, ...] = ()
    # The earliest evidence that met it, which ``met_at`` rests on (empty when not met).
    met_by_completion_ids: tuple[int, ...] = ()
    met_by_project_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LevelResult:
    level: Level
    reached: bool  # every criterion met by evidence
    reached_at: datetime | None
    attained: bool  # reached, or an active award of this level or above is held
    held_award_id: int | None  # the active award of exactly this level
    criteria: tuple[CriterionResult, ...]

    @property
    def completion_ids(self) -> tuple[int, ...]:
        """The completions that met this level's own criteria (the award's evidence)."""
        return tuple(i for c in self.criteria for i in c.completion_ids)

    @property
    def project_ids(self) -> tuple[int, ...]:
        return tuple(i for c in self.criteria for i in c.project_ids)

    @property
    def evidence(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The completions and projects ``reached_at`` rests on (an award's evidence): the
        earliest that met each of the level's own criteria."""
        return (
            tuple(i for c in self.criteria for i in c.met_by_completion_ids),
            tuple(i for c in self.criteria for i in c.met_by_project_ids),
        )


@dataclass(frozen=True)
class Decision:
    staff_id: int
    rules_version: int
    level: Level | None  # the highest level attained
    levels: tuple[LevelResult, ...]

    def at(self, level: Level) -> LevelResult:
        return self.levels[level.rank]

    @property
    def next_level(self) -> Level | None:
        rank = -1 if self.level is None else self.level.rank
        return LEVELS[rank + 1] if rank + 1 < len(LEVELS) else None


def decide(
    facts: PersonFacts,
    rules: AwardRulesDocument,
    *,
    rules_version: int,
    courses: Mapping[str, CourseFact],
) -> Decision:
    """The person's level under these rules, with the reasons for every criterion."""
    own = {
        Level.BRONZE: courses_criterion(facts.completions, rules.levels.bronze, courses),
        Level.SILVER: _projects(facts, rules.levels.silver),
        Level.GOLD: _mentored(facts, rules.levels.gold),
    }
    results: list[LevelResult] = []
    for level in LEVELS:
        criteria = [own[level]]
        if results:
            criteria.insert(0, _level_below(results[-1], facts.awards))
        reached = all(c.met for c in criteria)
        held_here = [a for a in facts.awards if a.level is level]
        results.append(
            LevelResult(
                level=level,
                reached=reached,
                reached_at=max(c.met_at for c in criteria if c.met_at) if reached else None,
                attained=reached or any(a.level.rank >= level.rank for a in facts.awards),
                held_award_id=min(a.id for a in held_here) if held_here else None,
                criteria=tuple(criteria),
            )
        )
    attained = [r.level for r in results if r.attained]
    return Decision(
        staff_id=facts.staff_id,
        rules_version=rules_version,
        level=attained[-1] if attained else None,
        levels=tuple(results),
    )


def _nth_earliest(times: Iterable[datetime], n: int) -> datetime | None:
    ordered = sorted(times)
    return ordered[n - 1] if len(ordered) >= n else None


def _more(count: int, singular: str, plural: str) -> str:
    return f"{count} more {singular if count == 1 else plural}"


def counting_courses(
    rule: BronzeRequirements, catalogue: Mapping[str, CourseFact]
) -> dict[str, tuple[bool, float | None]]:
    """Course code → (pass required, minimum score) for every course that counts."""
    counting = {
        code: (course.pass_required, course.minimum_score)
        for code, course in catalogue.items()
        if rule.catalogue_courses and course.counts_towards is Level.BRONZE
    }
    counting.update({c.code: (c.pass_required, c.minimum_score) for c in rule.courses})
    return counting


def qualifies(completion: CompletionFact, pass_required: bool, minimum: float | None) -> bool:
    """A failed completion never counts; a pass and the minimum score are needed when set."""
    if completion.passed is False or (pass_required and completion.passed is not True):
        return False
    return minimum is None or (
        completion.score_scaled is not None and completion.score_scaled >= minimum
    )


def courses_met(
    completions: Iterable[CompletionFact],
    counting: Mapping[str, tuple[bool, float | None]],
    required: int,
) -> tuple[datetime | None, list[CompletionFact], int]:
    """When ``required`` courses of ``counting`` (``counting_courses``) were first passed
    (None: not yet), the qualifying completions in order (earliest first, then by id), and how
    many courses they cover."""
    good = sorted(
        (
            c
            for c in completions
            if c.course_code in counting and qualifies(c, *counting[c.course_code])
        ),
        key=lambda c: (c.completed_at, c.id),
    )
    first_by_course: dict[str, datetime] = {}
    for completion in good:
        first_by_course.setdefault(completion.course_code, completion.completed_at)
    return _nth_earliest(first_by_course.values(), required), good, len(first_by_course)


def courses_met_by(good: Iterable[CompletionFact], required: int) -> tuple[int, ...]:
    """The completions the courses criterion's time rests on, from ``courses_met``'s
    qualifying completions: the first of each course, for the first ``required`` courses."""
    first: dict[str, int] = {}
    for completion in good:
        first.setdefault(completion.course_code, completion.id)
        if len(first) == required:
            return tuple(first.values())
    return ()


def courses_criterion(
    completions: Iterable[CompletionFact],
    rule: BronzeRequirements,
    catalogue: Mapping[str, CourseFact],
) -> CriterionResult:
    required = rule.minimum_courses
    met_at, good, counted = courses_met(completions, counting_courses(rule, catalogue), required)
    return CriterionResult(
        name="courses",
        description=f"A passed completion of {required} course{'s' if required > 1 else ''} "
        "that count towards Bronze, at the minimum score where one is set.",
        met=met_at is not None,
        required=required,
        counted=counted,
        met_at=met_at,
        missing=None
        if met_at
        else _more(
            required - counted,
            "passed course that counts towards Bronze",
            "passed courses that count towards Bronze",
        ),
        completion_ids=tuple(c.id for c in good),
        met_by_completion_ids=courses_met_by(good, required) if met_at else (),
    )


def _qualifying_projects(
    facts: PersonFacts, rule: SilverRequirements | GoldRequirements, *, led_by_other: bool
) -> dict[int, datetime]:
    """Project id → approved at, for the projects that count under this rule."""
    chosen: dict[int, datetime] = {}
    for project in facts.projects:
        if project.role not in rule.roles or project.outcome not in rule.outcomes:
            continue
        if led_by_other and not _led_by_someone_else(project, facts.staff_id):
            continue
        known = chosen.get(project.id)
        chosen[project.id] = (
            project.approved_at if known is None else min(known, project.approved_at)
        )
    return dict(sorted(chosen.items(), key=lambda item: (item[1], item[0])))


def _led_by_someone_else(project: ProjectFact, staff_id: int) -> bool:
    return project.lead_staff_id is not None and project.lead_staff_id != staff_id


def _roles_text(rule: SilverRequirements | GoldRequirements) -> str:
    return " or ".join(str(r) for r in rule.roles)


def _projects(facts: PersonFacts, rule: SilverRequirements) -> CriterionResult:
    chosen = _qualifying_projects(facts, rule, led_by_other=False)
    if not chosen:
        return _no_projects(rule)
    return _projects_result(rule, chosen)


@lru_cache(maxsize=64)
def _no_projects(rule: SilverRequirements) -> CriterionResult:
    """Most people have no project: the same answer for all of them, built once per rules."""
    return _projects_result(rule, {})


def _projects_result(rule: SilverRequirements, chosen: Mapping[int, datetime]) -> CriterionResult:
    required = rule.minimum_projects
    met_at = _nth_earliest(chosen.values(), required)
    plural = "s" if required > 1 else ""
    return CriterionResult(
        name="projects",
        description=f"At least {required} approved improvement project{plural} as "
        f"{_roles_text(rule)} (the outcome need not be an improvement).",
        met=met_at is not None,
        required=required,
        counted=len(chosen),
        met_at=met_at,
        missing=None
        if met_at
        else _more(
            required - len(chosen),
            f"approved project as {_roles_text(rule)}",
            f"approved projects as {_roles_text(rule)}",
        ),
        project_ids=tuple(chosen),
        met_by_project_ids=tuple(chosen)[:required] if met_at else (),
    )


def _mentored(facts: PersonFacts, rule: GoldRequirements) -> CriterionResult:
    chosen = _qualifying_projects(facts, rule, led_by_other=rule.lead_must_be_another_person)
    if not chosen:
        return _none_mentored(rule)
    return _mentored_result(rule, chosen)


@lru_cache(maxsize=64)
def _none_mentored(rule: GoldRequirements) -> CriterionResult:
    return _mentored_result(rule, {})


def _mentored_result(rule: GoldRequirements, chosen: Mapping[int, datetime]) -> CriterionResult:
    required = rule.minimum_mentored_projects
    met_at = _nth_earliest(chosen.values(), required)
    whose = " led by someone else" if rule.lead_must_be_another_person else ""
    return CriterionResult(
        name="mentoredProjects",
        description=f"{_roles_text(rule).capitalize()} on at least {required} approved "
        f"project{'s' if required > 1 else ''}{whose}.",
        met=met_at is not None,
        required=required,
        counted=len(chosen),
        met_at=met_at,
        missing=None
        if met_at
        else _more(required - len(chosen), "mentored project", "mentored projects"),
        project_ids=tuple(chosen),
        met_by_project_ids=tuple(chosen)[:required] if met_at else (),
    )


def _level_below(below: LevelResult, awards: Iterable[AwardFact]) -> CriterionResult:
    """Met when the level below is attained: reached by evidence, or held as an award."""
    if not below.attained:  # so no award of its level or above is held either
        return _level_below_not_held(below.level)
    holding = sorted(
        (a for a in awards if a.level.rank >= below.level.rank), key=lambda a: (a.attained_at, a.id)
    )
    times = [a.attained_at for a in holding]
    if below.reached and below.reached_at is not None:
        times.append(below.reached_at)
    return _level_below_result(
        below.level,
        met=True,
        met_at=min(times) if times else None,
        award_ids=tuple(a.id for a in holding),
    )


@lru_cache(maxsize=len(LEVELS))
def _level_below_not_held(level: Level) -> CriterionResult:
    return _level_below_result(level, met=False, met_at=None, award_ids=())


def _level_below_result(
    level: Level, *, met: bool, met_at: datetime | None, award_ids: tuple[int, ...]
) -> CriterionResult:
    return CriterionResult(
        name="levelBelow",
        description=f"Holds {level.label} (levels are cumulative).",
        met=met,
        required=1,
        counted=1 if met else 0,
        met_at=met_at,
        missing=None if met else f"{level.label} first",
        award_ids=award_ids,
    )
