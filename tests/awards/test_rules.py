"""The award rules, by example: each test one behaviour of the default rules (version 1)."""

from app.awards.facts import Level, ProjectOutcome, ProjectRole
from tests.awards.builders import (
    OTHER,
    THIRD,
    award,
    completion,
    day,
    decision,
    mentored,
    project,
    rules_with,
)


def test_no_facts_reach_no_level_and_say_what_each_level_needs() -> None:
    result = decision()
    assert result.level is None
    assert result.next_level is Level.BRONZE
    assert [r.reached for r in result.levels] == [False, False, False]
    bronze, silver, gold = (result.at(level) for level in Level)
    assert bronze.criteria[0].missing == "1 more passed course that counts towards Bronze"
    assert [c.missing for c in silver.criteria] == [
        "Bronze first",
        "1 more approved project as lead or member",
    ]
    assert gold.criteria[1].missing == "2 more mentored projects"


def test_a_passed_completion_of_a_counting_course_reaches_bronze_when_completed() -> None:
    result = decision(completion(7, on=3))
    assert result.level is Level.BRONZE
    assert result.at(Level.BRONZE).reached_at == day(3)
    assert result.at(Level.BRONZE).completion_ids == (7,)
    assert result.at(Level.BRONZE).criteria[0].missing is None


def test_a_failed_completion_does_not_reach_bronze() -> None:
    assert decision(completion(1, passed=False)).level is None


def test_a_completion_without_a_pass_does_not_count_where_a_pass_is_required() -> None:
    assert decision(completion(1, passed=None)).level is None


def test_a_course_without_pass_required_counts_without_a_pass_but_never_with_a_fail() -> None:
    assert decision(completion(1, course="IQT-OPEN", passed=None)).level is Level.BRONZE
    assert decision(completion(1, course="IQT-OPEN", passed=False)).level is None


def test_the_courses_minimum_score_must_be_met() -> None:
    def on_scored(score: float | None) -> Level | None:
        return decision(completion(1, course="IQT-BRONZE-SCORED", score=score)).level

    assert on_scored(0.79) is None
    assert on_scored(None) is None
    assert on_scored(0.8) is Level.BRONZE


def test_courses_that_do_not_count_towards_bronze_or_are_unknown_do_not_count() -> None:
    assert decision(completion(1, course="FIRE-SAFETY")).level is None
    assert decision(completion(1, course="NOT-IN-CATALOGUE")).level is None


def test_a_course_named_in_the_rules_counts_with_the_rules_own_minimum() -> None:
    rules = rules_with(
        bronze={
            "catalogueCourses": False,
            "courses": [{"code": "FIRE-SAFETY", "passRequired": True, "minimumScore": 0.5}],
        }
    )
    assert decision(completion(1, course="FIRE-SAFETY", score=0.6), rules=rules).level is not None
    assert decision(completion(1, course="FIRE-SAFETY", score=0.4), rules=rules).level is None
    assert decision(completion(1, course="IQT-BRONZE"), rules=rules).level is None


def test_minimum_courses_counts_distinct_courses_and_reaches_bronze_at_the_second() -> None:
    rules = rules_with(bronze={"minimumCourses": 2})
    twice_one_course = decision(completion(1, on=1), completion(2, on=2), rules=rules)
    assert twice_one_course.level is None
    assert twice_one_course.at(Level.BRONZE).criteria[0].counted == 1
    two_courses = decision(
        completion(1, on=1),
        completion(2, on=5, course="IQT-OPEN"),
        completion(3, on=9),
        rules=rules,
    )
    assert two_courses.at(Level.BRONZE).reached_at == day(5)
    assert two_courses.at(Level.BRONZE).completion_ids == (1, 2, 3)


def test_an_approved_project_as_lead_after_bronze_reaches_silver() -> None:
    result = decision(completion(1, on=1), project(10, on=4))
    assert result.level is Level.SILVER
    assert result.at(Level.SILVER).reached_at == day(4)
    assert result.at(Level.SILVER).project_ids == (10,)


def test_silver_is_reached_when_bronze_is_if_the_project_came_first() -> None:
    result = decision(project(10, on=1), completion(1, on=6))
    assert result.at(Level.SILVER).reached_at == day(6)


def test_a_project_whose_outcome_was_worse_still_earns_silver() -> None:
    result = decision(completion(1), project(10, outcome=ProjectOutcome.WORSE, lead=OTHER))
    assert result.level is Level.SILVER


def test_a_team_member_reaches_silver_but_a_sponsor_does_not() -> None:
    assert decision(completion(1), project(10, role=ProjectRole.MEMBER, lead=OTHER)).level is (
        Level.SILVER
    )
    assert decision(completion(1), project(10, role=ProjectRole.SPONSOR, lead=OTHER)).level is (
        Level.BRONZE
    )


def test_no_silver_without_bronze() -> None:
    result = decision(project(10))
    assert result.level is None
    assert result.at(Level.SILVER).criteria[1].met
    assert not result.at(Level.SILVER).reached


def test_gold_needs_two_mentored_projects_led_by_others() -> None:
    one = decision(completion(1), project(10), mentored(20, on=5))
    assert one.level is Level.SILVER
    assert one.at(Level.GOLD).criteria[1].missing == "1 more mentored project"
    two = decision(completion(1), project(10), mentored(20, on=5), mentored(21, on=8, lead=THIRD))
    assert two.level is Level.GOLD
    assert two.at(Level.GOLD).reached_at == day(8)
    assert two.at(Level.GOLD).project_ids == (20, 21)


def test_mentoring_your_own_project_or_one_without_a_lead_does_not_count_for_gold() -> None:
    result = decision(
        completion(1), project(10), mentored(20), mentored(21, lead=1), mentored(22, lead=None)
    )
    assert result.level is Level.SILVER
    assert result.at(Level.GOLD).criteria[1].counted == 1


def test_own_projects_count_for_gold_when_the_rules_allow_it() -> None:
    rules = rules_with(gold={"leadMustBeAnotherPerson": False})
    result = decision(completion(1), project(10), mentored(20), mentored(21, lead=1), rules=rules)
    assert result.level is Level.GOLD


def test_a_legacy_bronze_award_lets_a_project_reach_silver() -> None:
    result = decision(award(5, Level.BRONZE, on=0), project(10, on=3))
    assert result.level is Level.SILVER
    assert not result.at(Level.BRONZE).reached
    assert result.at(Level.BRONZE).held_award_id == 5
    assert result.at(Level.SILVER).criteria[0].award_ids == (5,)
    assert result.at(Level.SILVER).reached_at == day(3)


def test_a_legacy_gold_award_attains_every_level_without_reaching_them() -> None:
    result = decision(award(5, Level.GOLD))
    assert result.level is Level.GOLD
    assert result.next_level is None
    assert [r.attained for r in result.levels] == [True, True, True]
    assert [r.reached for r in result.levels] == [False, False, False]


def test_the_level_below_is_met_at_the_earlier_of_the_award_and_the_evidence() -> None:
    result = decision(award(5, Level.BRONZE, on=2), completion(1, on=7), project(10, on=1))
    assert result.at(Level.SILVER).criteria[0].met_at == day(2)
    assert result.at(Level.SILVER).reached_at == day(2)


def test_evidence_is_listed_in_time_order_then_id() -> None:
    result = decision(completion(9, on=2), completion(3, on=2), completion(5, on=1))
    assert result.at(Level.BRONZE).completion_ids == (5, 3, 9)


def test_the_decision_carries_the_rules_version_and_person() -> None:
    result = decision(staff_id=42)
    assert (result.staff_id, result.rules_version) == (42, 1)
