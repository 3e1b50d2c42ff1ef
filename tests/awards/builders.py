"""Small builders of facts and rules documents for the awards tests."""

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from app.awards.facts import (
    AwardFact,
    CompletionFact,
    CourseFact,
    Level,
    PersonFacts,
    ProjectFact,
    ProjectOutcome,
    ProjectRole,
)
from app.awards.rules import Decision, decide
from app.awards.rules_document import DEFAULT_RULES, DEFAULT_RULES_JSON, AwardRulesDocument

ME, OTHER, THIRD = 1, 2, 3
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CATALOGUE = {
    "IQT-BRONZE": CourseFact("IQT-BRONZE", Level.BRONZE, pass_required=True),
    "IQT-BRONZE-SCORED": CourseFact(
        "IQT-BRONZE-SCORED", Level.BRONZE, pass_required=True, minimum_score=0.8
    ),
    "IQT-OPEN": CourseFact("IQT-OPEN", Level.BRONZE, pass_required=False),
    "FIRE-SAFETY": CourseFact("FIRE-SAFETY", None, pass_required=True),
}


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def completion(
    id: int,
    on: int = 0,
    course: str = "IQT-BRONZE",
    passed: bool | None = True,
    score: float | None = None,
) -> CompletionFact:
    return CompletionFact(id, course, day(on), passed, score)


def project(
    id: int,
    on: int = 0,
    role: ProjectRole = ProjectRole.LEAD,
    lead: int | None = ME,
    outcome: ProjectOutcome = ProjectOutcome.IMPROVED,
) -> ProjectFact:
    return ProjectFact(id, day(on), role, lead, outcome)


def mentored(id: int, on: int = 0, lead: int | None = OTHER) -> ProjectFact:
    return project(id, on, ProjectRole.MENTOR, lead)


def award(id: int, level: Level, on: int = 0, version: int | None = None) -> AwardFact:
    return AwardFact(id, level, day(on), version)


def facts(*items: Any, staff_id: int = ME) -> PersonFacts:
    return PersonFacts(
        staff_id=staff_id,
        completions=tuple(i for i in items if isinstance(i, CompletionFact)),
        projects=tuple(i for i in items if isinstance(i, ProjectFact)),
        awards=tuple(i for i in items if isinstance(i, AwardFact)),
    )


def rules_with(**levels: dict[str, Any]) -> AwardRulesDocument:
    """The default rules with some fields of some levels changed."""
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    for level, changes in levels.items():
        document["levels"][level].update(changes)
    return AwardRulesDocument.model_validate(document)


def decision(
    *items: Any, rules: AwardRulesDocument = DEFAULT_RULES, staff_id: int = ME
) -> Decision:
    return decide(facts(*items, staff_id=staff_id), rules, rules_version=1, courses=CATALOGUE)
