"""The transition table, every (state, action) pair, and the pure submission and rubric rules."""

import itertools

import pytest

from app.projects.lifecycle import (
    ProjectAction,
    ProjectStatus,
    TransitionRefused,
    allowed_actions,
    is_editable,
    next_status,
)
from app.projects.rubric import (
    MAXIMUM_TOTAL,
    SECTIONS,
    SubmissionFacts,
    missing_for_submission,
    review_problems,
    total,
)

S, A = ProjectStatus, ProjectAction

# The lifecycle as the issue states it, written out independently of the module's table.
EXPECTED = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.APPROVE): None,
    (S.DRAFT, A.RETURN): None,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.EDIT): S.SUBMITTED,
    (S.SUBMITTED, A.SUBMIT): None,
    (S.SUBMITTED, A.APPROVE): S.APPROVED,
    (S.SUBMITTED, A.RETURN): S.RETURNED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.RETURNED, A.EDIT): S.RETURNED,
    (S.RETURNED, A.SUBMIT): S.SUBMITTED,
    (S.RETURNED, A.APPROVE): None,
    (S.RETURNED, A.RETURN): None,
    (S.RETURNED, A.WITHDRAW): S.WITHDRAWN,
    (S.APPROVED, A.EDIT): None,
    (S.APPROVED, A.SUBMIT): None,
    (S.APPROVED, A.APPROVE): None,
    (S.APPROVED, A.RETURN): None,
    (S.APPROVED, A.WITHDRAW): None,
    (S.WITHDRAWN, A.EDIT): None,
    (S.WITHDRAWN, A.SUBMIT): None,
    (S.WITHDRAWN, A.APPROVE): None,
    (S.WITHDRAWN, A.RETURN): None,
    (S.WITHDRAWN, A.WITHDRAW): None,
}


def test_expectations_cover_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(ProjectStatus, ProjectAction))


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [(s, a, e) for (s, a), e in EXPECTED.items()],
    ids=[f"{s}-{a}" for s, a in EXPECTED],
)
def test_transition(status: ProjectStatus, action: ProjectAction, expected: S | None) -> None:
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            next_status(status, action)
        assert refused.value.status == status
        assert action not in refused.value.allowed
        assert refused.value.allowed == allowed_actions(status)
    else:
        assert next_status(status, action) == expected
        assert action in allowed_actions(status)


@pytest.mark.parametrize("status", list(ProjectStatus))
def test_allowed_actions_are_exactly_the_permitted_pairs(status: ProjectStatus) -> None:
    permitted = {a for (s, a), e in EXPECTED.items() if s == status and e is not None}
    assert set(allowed_actions(status)) == permitted


def test_only_approved_and_withdrawn_are_not_editable() -> None:
    assert {s for s in ProjectStatus if not is_editable(s)} == {S.APPROVED, S.WITHDRAWN}


def _facts(**overrides: object) -> SubmissionFacts:
    values: dict[str, object] = {
        "problem": "Late doses.",
        "aim": "Fewer late doses.",
        "changes": [{"title": "Prompt"}],
        "outcome": "worse",
        "learning": "Prompts alone were not enough.",
        "roles": ["lead", "member"],
    }
    values.update(overrides)
    return SubmissionFacts(**values)  # type: ignore[arg-type]


def test_complete_project_lacks_nothing_whatever_the_outcome() -> None:
    for outcome in ("improved", "noChange", "worse", "inconclusive"):
        assert missing_for_submission(_facts(outcome=outcome)) == []


def test_every_missing_field_is_listed_at_once() -> None:
    missing = missing_for_submission(
        SubmissionFacts(problem=" ", aim=None, changes=[], outcome=None, learning="", roles=[])
    )
    assert [name for name, _ in missing] == [
        "team",
        "problem",
        "aim",
        "changes",
        "outcome",
        "learning",
    ]


def test_a_team_without_a_lead_is_missing_its_lead() -> None:
    assert [n for n, _ in missing_for_submission(_facts(roles=["member", "mentor"]))] == ["team"]


def test_rubric_is_out_of_fifty() -> None:
    assert MAXIMUM_TOTAL == 50
    assert total(dict(SECTIONS)) == 50


def _scores_totalling(score: int) -> dict[str, int]:
    scores, left = {}, score
    for section, maximum in SECTIONS.items():
        scores[section] = min(maximum, left)
        left -= scores[section]
    return scores


@pytest.mark.parametrize(("score", "refused"), [(0, True), (24, True), (25, False), (50, False)])
def test_approval_needs_the_pass_mark(score: int, refused: bool) -> None:
    scores = _scores_totalling(score)
    assert total(scores) == score
    problems = review_problems("approved", scores, None, pass_mark=25)
    assert [name for name, _ in problems] == (["decision"] if refused else [])


def test_returned_needs_comments_but_not_the_pass_mark() -> None:
    zero = dict.fromkeys(SECTIONS, 0)
    assert [n for n, _ in review_problems("returned", zero, "  ", 25)] == ["comments"]
    assert review_problems("returned", zero, "Say more about the measures.", 25) == []
