"""Persisting the difference: which awards to grant and which to revoke, as pure data."""

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.awards.changes import (
    AwardChanges,
    Grant,
    Revocation,
    may_change,
    plan_award_changes,
    plan_in_full,
)
from app.awards.facts import LEVELS, AwardFact, Level, PersonFacts
from app.awards.rules import counting_courses
from app.awards.rules_document import DEFAULT_RULES, AwardRulesDocument
from tests.awards.builders import (
    CATALOGUE,
    award,
    completion,
    day,
    facts,
    mentored,
    project,
    rules_with,
)
from tests.awards.test_rules_properties import catalogues, moments, person_facts, rules_documents

# Version 2 needs a score of 0.9 on every counting course.
STRICT = rules_with(
    bronze={
        "catalogueCourses": False,
        "courses": [{"code": "IQT-BRONZE", "passRequired": True, "minimumScore": 0.9}],
    }
)
VERSIONS: dict[int, AwardRulesDocument] = {1: DEFAULT_RULES, 2: STRICT}


def plan(person: PersonFacts, current: int = 1) -> AwardChanges:
    return plan_award_changes(person, rules=VERSIONS, current_version=current, courses=CATALOGUE)


def granted(level: Level, id: int, on: int = 0, **evidence: Any) -> AwardFact:
    return AwardFact(
        id,
        level,
        day(on),
        1,
        frozenset(evidence.get("completions", ())),
        frozenset(evidence.get("projects", ())),
    )


def test_evidence_for_every_level_grants_each_with_its_time_and_evidence() -> None:
    changes = plan(
        facts(completion(1, on=1), project(10, on=2), mentored(20, on=3), mentored(21, on=4))
    )
    assert changes.revocations == ()
    assert changes.grants == (
        Grant(Level.BRONZE, day(1), 1, (1,), ()),
        Grant(Level.SILVER, day(2), 1, (), (10,)),
        Grant(Level.GOLD, day(4), 1, (), (20, 21)),
    )


def test_levels_already_held_are_not_granted_again() -> None:
    changes = plan(facts(completion(1), project(10), granted(Level.BRONZE, 500, completions=[1])))
    assert [g.level for g in changes.grants] == [Level.SILVER]


def test_a_retracted_completion_revokes_bronze_and_cascades() -> None:
    person = facts(
        project(10),
        granted(Level.BRONZE, 500, completions=[1]),
        granted(Level.SILVER, 501, projects=[10]),
    )
    changes = plan(person)
    assert changes.revocations == (
        Revocation(500, Level.BRONZE, "evidenceRetracted"),
        Revocation(501, Level.SILVER, "levelBelowRevoked", cascaded_from=500),
    )
    assert changes.grants == ()
    assert changes.decision.level is None


def test_a_retracted_project_revokes_silver_and_gold_but_not_bronze() -> None:
    person = facts(
        completion(1),
        mentored(20),
        mentored(21),
        granted(Level.BRONZE, 500, completions=[1]),
        granted(Level.SILVER, 501, projects=[10]),
        granted(Level.GOLD, 502, projects=[20, 21]),
    )
    assert [(r.award_id, r.cause) for r in plan(person).revocations] == [
        (501, "evidenceRetracted"),
        (502, "levelBelowRevoked"),
    ]


def test_an_award_stands_when_other_evidence_still_reaches_its_level() -> None:
    person = facts(completion(2, on=5), granted(Level.BRONZE, 500, completions=[1]))
    assert plan(person).empty


def test_awards_stand_when_the_rules_change() -> None:
    person = facts(completion(1, score=0.5), granted(Level.BRONZE, 500, completions=[1]))
    changes = plan(person, current=2)
    assert changes.empty
    assert not changes.decision.at(Level.BRONZE).reached


def test_a_retraction_is_judged_under_the_awards_own_rules_version() -> None:
    # Completion 2 meets version 1 but not the current version 2: the award stands.
    person = facts(completion(2, score=0.5), granted(Level.BRONZE, 500, completions=[1]))
    assert plan(person, current=2).empty


def test_a_revoked_level_is_granted_again_when_the_current_rules_are_met_otherwise() -> None:
    strict_first = replace(granted(Level.BRONZE, 500, completions=[1]), rules_version=2)
    person = facts(completion(2, on=9, score=0.5), strict_first)
    changes = plan(person, current=1)
    assert [r.award_id for r in changes.revocations] == [500]
    assert changes.grants == (Grant(Level.BRONZE, day(9), 1, (2,), ()),)


def test_legacy_awards_are_never_revoked_nor_cascaded_by_evaluation() -> None:
    person = facts(
        award(400, Level.BRONZE),
        granted(Level.SILVER, 501, projects=[10]),
        award(402, Level.GOLD),
    )
    assert [r.award_id for r in plan(person).revocations] == [501]


def test_a_legacy_bronze_lets_evidence_grant_silver() -> None:
    changes = plan(facts(award(400, Level.BRONZE, on=0), project(10, on=3)))
    assert changes.grants == (Grant(Level.SILVER, day(3), 1, (), (10,)),)


def test_evidence_an_administrator_rejected_does_not_grant_again_but_new_evidence_does() -> None:
    rejected = granted(Level.BRONZE, 500, completions=[1])
    same = replace(facts(completion(1), project(10)), revoked_by_administrator=(rejected,))
    assert plan(same).grants == ()
    more = replace(
        facts(completion(1), completion(2, on=4), project(10)), revoked_by_administrator=(rejected,)
    )
    assert [g.level for g in plan(more).grants] == [Level.BRONZE, Level.SILVER]


def apply(person: PersonFacts, changes: AwardChanges) -> PersonFacts:
    revoked = {r.award_id for r in changes.revocations}
    kept = tuple(a for a in person.awards if a.id not in revoked)
    new = tuple(
        AwardFact(
            900_000 + n,
            g.level,
            g.granted_at,
            g.rules_version,
            frozenset(g.completion_ids),
            frozenset(g.project_ids),
        )
        for n, g in enumerate(changes.grants)
    )
    return replace(person, awards=kept + new)


@st.composite
def people_with_awards(draw: st.DrawFn) -> tuple[PersonFacts, int]:
    """Facts with awards naming evidence that is still there or has gone, under either
    version or legacy, some refused by an administrator; and the current version."""
    person = draw(person_facts(with_awards=False))
    completions = [c.id for c in person.completions] + [-1, -2]
    projects = [p.id for p in person.projects] + [-3, -4]

    def some_award(id: int, level: Level) -> AwardFact:
        return AwardFact(
            id,
            level,
            draw(moments),
            draw(st.sampled_from([None, 1, 2])),
            frozenset(draw(st.lists(st.sampled_from(completions), max_size=2))),
            frozenset(draw(st.lists(st.sampled_from(projects), max_size=2))),
        )

    levels = draw(st.lists(st.sampled_from(LEVELS), unique=True))
    refused = draw(st.lists(st.sampled_from(LEVELS), unique=True, max_size=2))
    person = replace(
        person,
        awards=tuple(some_award(800 + n, level) for n, level in enumerate(levels)),
        revoked_by_administrator=tuple(some_award(700 + n, lv) for n, lv in enumerate(refused)),
    )
    return person, draw(st.sampled_from([1, 2]))


@settings(max_examples=150, deadline=None)
@given(people_with_awards())
def test_planning_again_after_applying_the_changes_changes_nothing(
    case: tuple[PersonFacts, int],
) -> None:
    person, current = case
    first = plan(person, current)
    after = apply(person, first)
    assert plan(after, current).empty
    levels = [a.level for a in after.awards]
    assert len(levels) == len(set(levels))
    for grant in first.grants:
        assert grant.level is Level.BRONZE or any(
            a.level.rank >= grant.level.rank - 1 for a in after.awards if a.level is not grant.level
        )


@settings(max_examples=150, deadline=None)
@given(people_with_awards())
def test_only_awards_whose_evidence_has_gone_are_revoked_and_legacy_ones_never(
    case: tuple[PersonFacts, int],
) -> None:
    person, current = case
    completions = {c.id for c in person.completions}
    projects = {p.id for p in person.projects}
    by_id = {a.id: a for a in person.awards}
    for revocation in plan(person, current).revocations:
        award = by_id[revocation.award_id]
        assert award.rules_version is not None
        if revocation.cause == "evidenceRetracted":
            assert not (award.completion_ids <= completions and award.project_ids <= projects)
        else:
            cause = by_id[revocation.cascaded_from or 0]
            assert cause.level.rank < award.level.rank


@settings(max_examples=300, deadline=None)
@given(people_with_awards(), rules_documents(), catalogues)
def test_people_evaluation_skips_are_people_no_rules_would_change(
    case: tuple[PersonFacts, int], document: AwardRulesDocument, catalogue: Any
) -> None:
    person, _ = case
    if not may_change(person):
        changes = plan_award_changes(
            person, rules={**VERSIONS, 3: document}, current_version=3, courses=catalogue
        )
        assert changes.empty


def test_holding_bronze_without_projects_changes_nothing_but_a_retraction_does() -> None:
    holder = facts(completion(1), granted(Level.BRONZE, 10, completions=[1]))
    assert not may_change(holder)
    assert may_change(replace(holder, completions=()))
    assert may_change(replace(holder, projects=(project(5),)))
    assert may_change(facts(completion(1)))
    assert not may_change(facts())


@settings(deadline=None)  # no per-example deadline: a busy machine is not a failure
@given(person_facts(with_awards=False), rules_documents(), catalogues)
def test_someone_holding_nothing_and_on_no_project_is_planned_as_in_full(
    person: PersonFacts, document: AwardRulesDocument, catalogue: Any
) -> None:
    """The short way for people who can only gain Bronze gives what the full planning gives."""
    person = replace(person, projects=())
    versions = {**VERSIONS, 3: document}
    quick = plan_award_changes(person, rules=versions, current_version=3, courses=catalogue)
    full = plan_in_full(person, rules=versions, current_version=3, courses=catalogue)
    assert quick == full
    assert quick.decision == full.decision
    # As an evaluation plans many people: the courses that count worked out once.
    counting = counting_courses(document.levels.bronze, catalogue)
    assert full == plan_award_changes(
        person, rules=versions, current_version=3, courses=catalogue, bronze_courses=counting
    )


def test_bronze_for_someone_holding_nothing_names_every_qualifying_completion() -> None:
    person = facts(
        completion(3, on=5, course="IQT-OPEN"),
        completion(1, on=2),
        completion(2, on=9, passed=False),
        completion(4, on=7, course="FIRE-SAFETY"),
    )
    changes = plan(person)
    assert changes.grants == (Grant(Level.BRONZE, day(2), 1, (1, 3), ()),)
    assert changes == plan_in_full(person, rules=VERSIONS, current_version=1, courses=CATALOGUE)
