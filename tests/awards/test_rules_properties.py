"""Properties of the award rules over generated facts and rules documents (no database)."""

import copy
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.awards.facts import (
    LEVELS,
    AwardFact,
    CompletionFact,
    CourseFact,
    Level,
    PersonFacts,
    ProjectFact,
    ProjectOutcome,
    ProjectRole,
)
from app.awards.rules import Decision, counting_courses, decide, levels_evidence_may_reach
from app.awards.rules_document import DEFAULT_RULES, DEFAULT_RULES_JSON, AwardRulesDocument
from tests.awards.builders import CATALOGUE, ME, T0
from tests.depth import examples

# Many examples, no per-example deadline (the first examples pay for imports and caches).
property_test = settings(max_examples=examples(150), deadline=None)

CODES = [*CATALOGUE, "UNKNOWN"]
moments = st.integers(0, 400).map(lambda d: T0 + timedelta(days=d))
scores = st.none() | st.floats(0, 1, allow_nan=False)
ids = st.integers(1, 10_000)


@st.composite
def completions(draw: st.DrawFn, id: int) -> CompletionFact:
    return CompletionFact(
        id,
        draw(st.sampled_from(CODES)),
        draw(moments),
        draw(st.sampled_from([True, False, None])),
        draw(scores),
    )


@st.composite
def projects(draw: st.DrawFn, id: int) -> ProjectFact:
    return ProjectFact(
        id,
        draw(moments),
        draw(st.sampled_from(list(ProjectRole))),
        draw(st.sampled_from([None, ME, 2, 3])),
        draw(st.sampled_from(list(ProjectOutcome))),
    )


@st.composite
def person_facts(draw: st.DrawFn, with_awards: bool = True) -> PersonFacts:
    completion_ids = draw(st.lists(ids, unique=True, max_size=6))
    project_ids = draw(st.lists(ids, unique=True, max_size=6))
    levels = draw(st.lists(st.sampled_from(LEVELS), unique=True, max_size=3)) if with_awards else []
    return PersonFacts(
        staff_id=ME,
        completions=tuple(draw(completions(i)) for i in completion_ids),
        projects=tuple(draw(projects(i)) for i in project_ids),
        awards=tuple(
            AwardFact(90_000 + n, level, draw(moments), draw(st.sampled_from([None, 1])))
            for n, level in enumerate(levels)
        ),
    )


def _subset(values: list[str]) -> Any:
    return st.lists(st.sampled_from(values), unique=True, min_size=1)


@st.composite
def rules_documents(draw: st.DrawFn) -> AwardRulesDocument:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    named = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=3))
    catalogue = draw(st.booleans()) or not named
    bronze = document["levels"]["bronze"]
    bronze["catalogueCourses"] = catalogue
    bronze["courses"] = [
        {"code": code, "passRequired": draw(st.booleans()), "minimumScore": draw(scores)}
        for code in named
    ]
    bronze["minimumCourses"] = draw(st.integers(1, 2 if catalogue else len(named)))
    roles, outcomes = [str(r) for r in ProjectRole], [str(o) for o in ProjectOutcome]
    document["levels"]["silver"].update(
        minimumProjects=draw(st.integers(1, 3)),
        roles=draw(_subset(roles)),
        outcomes=draw(_subset(outcomes)),
    )
    document["levels"]["gold"].update(
        minimumMentoredProjects=draw(st.integers(1, 3)),
        roles=draw(_subset(roles)),
        outcomes=draw(_subset(outcomes)),
        leadMustBeAnotherPerson=draw(st.booleans()),
    )
    return AwardRulesDocument.model_validate(document)


catalogues = st.fixed_dictionaries(
    {
        code: st.builds(
            CourseFact,
            st.just(code),
            st.sampled_from([Level.BRONZE, None]),
            st.booleans(),
            scores,
        )
        for code in CATALOGUE
    }
)


def rank(decision: Decision) -> int:
    return -1 if decision.level is None else decision.level.rank


def run(
    facts: PersonFacts, rules: AwardRulesDocument = DEFAULT_RULES, courses: Any = None
) -> Decision:
    return decide(facts, rules, rules_version=3, courses=CATALOGUE if courses is None else courses)


def merged(a: PersonFacts, b: PersonFacts) -> PersonFacts:
    """``a`` with ``b``'s evidence and awards added (``b``'s ids moved clear of ``a``'s)."""
    held = {award.level for award in a.awards}
    return PersonFacts(
        staff_id=a.staff_id,
        completions=a.completions + tuple(replace(c, id=c.id + 20_000) for c in b.completions),
        projects=a.projects + tuple(replace(p, id=p.id + 20_000) for p in b.projects),
        awards=a.awards
        + tuple(replace(w, id=w.id + 20_000) for w in b.awards if w.level not in held),
    )


@property_test
@given(person_facts(), person_facts(), rules_documents(), catalogues)
def test_adding_evidence_never_lowers_the_level_or_delays_it(
    before: PersonFacts, extra: PersonFacts, rules: AwardRulesDocument, courses: Any
) -> None:
    old, new = run(before, rules, courses), run(merged(before, extra), rules, courses)
    assert rank(new) >= rank(old)
    for was, now in zip(old.levels, new.levels, strict=True):
        assert now.attained >= was.attained
        assert now.reached >= was.reached
        if was.reached_at is not None:
            assert now.reached_at is not None and now.reached_at <= was.reached_at


@property_test
@given(person_facts(), rules_documents(), catalogues)
def test_a_level_is_never_reached_or_attained_without_the_levels_below(
    facts: PersonFacts, rules: AwardRulesDocument, courses: Any
) -> None:
    result = run(facts, rules, courses)
    for below, level in zip(result.levels, result.levels[1:], strict=False):
        assert not level.reached or below.attained
        assert not level.attained or below.attained
        if level.reached and below.reached:
            assert below.reached_at is not None and level.reached_at is not None
            assert level.reached_at >= min(
                [below.reached_at, *(a.attained_at for a in facts.awards)]
            )


@property_test
@given(person_facts(), rules_documents(), catalogues)
def test_no_rules_document_reaches_a_level_the_evidence_may_not_reach(
    facts: PersonFacts, rules: AwardRulesDocument, courses: Any
) -> None:
    """What evaluation skips people on (``changes.may_change``) is the rules' own bound."""
    reachable = levels_evidence_may_reach(facts)
    for level in run(facts, rules, courses).levels:
        assert not level.reached or level.level in reachable


@property_test
@given(person_facts(), rules_documents(), catalogues, st.randoms(use_true_random=False))
def test_the_same_facts_in_any_order_give_the_same_decision(
    facts: PersonFacts, rules: AwardRulesDocument, courses: Any, random: Any
) -> None:
    shuffled = [list(facts.completions), list(facts.projects), list(facts.awards)]
    for items in shuffled:
        random.shuffle(items)
    again = PersonFacts(ME, *(tuple(items) for items in shuffled))
    assert run(facts, rules, courses) == run(facts, rules, courses) == run(again, rules, courses)


@property_test
@given(person_facts(), rules_documents(), catalogues)
def test_the_explanation_agrees_with_the_decision(
    facts: PersonFacts, rules: AwardRulesDocument, courses: Any
) -> None:
    result = run(facts, rules, courses)
    attained = [r.level for r in result.levels if r.attained]
    assert result.level == (attained[-1] if attained else None)
    known_completions = {c.id for c in facts.completions}
    known_projects = {p.id for p in facts.projects}
    for level in result.levels:
        assert level.reached == all(c.met for c in level.criteria)
        assert (level.reached_at is not None) == level.reached
        if level.reached:
            assert level.reached_at == max(c.met_at for c in level.criteria if c.met_at)
        assert level.held_award_id == next(
            (a.id for a in facts.awards if a.level is level.level), None
        )
        for criterion in level.criteria:
            assert criterion.met == (criterion.missing is None) == (criterion.met_at is not None)
            assert criterion.met == (criterion.counted >= criterion.required)
            assert set(criterion.completion_ids) <= known_completions
            assert set(criterion.project_ids) <= known_projects
            if criterion.name != "levelBelow":
                assert len(criterion.completion_ids) + len(criterion.project_ids) >= (
                    criterion.counted
                )


@property_test
@given(person_facts(), st.sampled_from([ProjectRole.LEAD, ProjectRole.MEMBER]), moments)
def test_a_silver_project_whose_outcome_was_worse_is_still_silver(
    facts: PersonFacts, role: ProjectRole, approved_at: Any
) -> None:
    worse = ProjectFact(
        50_000, approved_at, role, ME if role is ProjectRole.LEAD else 2, ProjectOutcome.WORSE
    )
    passed = CompletionFact(50_001, "IQT-BRONZE", approved_at, True, None)
    with_worse = replace(
        facts, completions=(*facts.completions, passed), projects=(*facts.projects, worse)
    )
    assert rank(run(with_worse)) >= Level.SILVER.rank
    assert 50_000 in run(with_worse).at(Level.SILVER).project_ids


@property_test
@given(person_facts(with_awards=False), rules_documents(), catalogues)
def test_failed_or_under_minimum_completions_never_give_bronze(
    facts: PersonFacts, rules: AwardRulesDocument, courses: Any
) -> None:
    counting = counting_courses(rules.levels.bronze, courses)
    failing = tuple(
        c
        for c in facts.completions
        if c.course_code not in counting
        or (
            c.passed is False
            or (
                counting[c.course_code][1] is not None
                and (c.score_scaled or 0) < counting[c.course_code][1]
            )
        )
    )
    result = run(replace(facts, completions=failing), rules, courses)
    assert not result.at(Level.BRONZE).reached
    assert result.level is None


@property_test
@given(person_facts(), st.lists(moments, min_size=1, max_size=5))
def test_mentoring_your_own_projects_does_not_count_for_gold(
    facts: PersonFacts, approvals: list[Any]
) -> None:
    own = tuple(
        ProjectFact(60_000 + n, at, ProjectRole.MENTOR, ME, ProjectOutcome.IMPROVED)
        for n, at in enumerate(approvals)
    )
    assert run(replace(facts, projects=facts.projects + own)).at(Level.GOLD) == run(facts).at(
        Level.GOLD
    )
