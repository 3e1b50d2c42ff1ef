"""The Silver rubric and what a submission must hold: pure rules, no database.

A Silver report is marked out of 50 (principles 5, aim 10, measures 10, changes 10,
sustainability and spread 10, reflection 5). The pass mark is configuration, not code. The rubric
marks the attempt and the reflection, not success: an outcome of ``noChange`` or ``worse`` is
approvable.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Section (wire name) → maximum score.
SECTIONS: Mapping[str, int] = {
    "principles": 5,
    "aim": 10,
    "measures": 10,
    "changes": 10,
    "sustainabilityAndSpread": 10,
    "reflection": 5,
}
MAXIMUM_TOTAL = sum(SECTIONS.values())


def total(scores: Mapping[str, int]) -> int:
    return sum(scores[section] for section in SECTIONS)


def review_problems(
    decision: str, scores: Mapping[str, int], comments: str | None, pass_mark: int
) -> list[tuple[str, str]]:
    """Why this review cannot be recorded, as (field, reason); empty when it can."""
    problems: list[tuple[str, str]] = []
    score = total(scores)
    if decision == "approved" and score < pass_mark:
        problems.append(
            ("decision", f"The total {score}/{MAXIMUM_TOTAL} is below the pass mark {pass_mark}.")
        )
    if decision == "returned" and not (comments or "").strip():
        problems.append(("comments", "A returned project needs comments saying what to improve."))
    return problems


@dataclass(frozen=True)
class SubmissionFacts:
    """The parts of a project submission looks at."""

    problem: str | None
    aim: str | None
    changes: Sequence[object]
    outcome: str | None
    learning: str | None
    roles: Sequence[str]


def missing_for_submission(facts: SubmissionFacts) -> list[tuple[str, str]]:
    """Every field a submission still lacks, as (field, reason), all at once."""
    missing: list[tuple[str, str]] = []
    if facts.roles.count("lead") != 1:
        missing.append(("team", "Exactly one member with the role lead is required."))
    for name, value in (("problem", facts.problem), ("aim", facts.aim)):
        if not (value or "").strip():
            missing.append((name, "Required for submission."))
    if not facts.changes:
        missing.append(("changes", "At least one change tested (PDSA cycle) is required."))
    if facts.outcome is None:
        missing.append(
            ("outcome", "Required for submission: improved, noChange, worse or inconclusive.")
        )
    if not (facts.learning or "").strip():
        missing.append(("learning", "Required for submission: what the team learned."))
    return missing
