"""The rules document: what version 1 says, and malformed parts named by their path."""

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from app.awards.rules_document import DEFAULT_RULES, DEFAULT_RULES_JSON, AwardRulesDocument


def errors_of(change: Any) -> dict[str, str]:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    change(document)
    with pytest.raises(ValidationError) as raised:
        AwardRulesDocument.model_validate(document)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in raised.value.errors()}


def test_version_1_is_the_programme_as_published() -> None:
    levels = DEFAULT_RULES.levels
    assert levels.bronze.catalogue_courses and levels.bronze.minimum_courses == 1
    assert levels.silver.minimum_projects == 1
    assert {str(r) for r in levels.silver.roles} == {"lead", "member"}
    assert "worse" in {str(o) for o in levels.silver.outcomes}
    assert levels.gold.minimum_mentored_projects == 2
    assert levels.gold.lead_must_be_another_person


def test_the_document_round_trips_in_lower_camel_case() -> None:
    assert DEFAULT_RULES.to_json() == DEFAULT_RULES_JSON
    assert AwardRulesDocument.model_validate(DEFAULT_RULES.to_json()) == DEFAULT_RULES


def test_a_bad_threshold_is_named_by_its_path() -> None:
    def zero_mentored(d: dict[str, Any]) -> None:
        d["levels"]["gold"]["minimumMentoredProjects"] = 0

    assert list(errors_of(zero_mentored)) == ["levels.gold.minimumMentoredProjects"]


def test_a_missing_field_is_refused_not_defaulted() -> None:
    def no_minimum(d: dict[str, Any]) -> None:
        del d["levels"]["silver"]["minimumProjects"]

    assert errors_of(no_minimum) == {"levels.silver.minimumProjects": "Field required"}


def test_unknown_fields_and_snake_case_names_are_refused() -> None:
    def snake(d: dict[str, Any]) -> None:
        d["levels"]["bronze"]["minimum_courses"] = 1

    assert "levels.bronze.minimum_courses" in errors_of(snake)


def test_unknown_roles_outcomes_and_repeats_are_named() -> None:
    def bad_lists(d: dict[str, Any]) -> None:
        d["levels"]["silver"]["roles"] = ["lead", "lead"]
        d["levels"]["gold"]["outcomes"] = ["brilliant"]

    found = errors_of(bad_lists)
    assert "must not repeat lead" in found["levels.silver.roles"]
    assert "levels.gold.outcomes.0" in found


def test_named_courses_are_checked() -> None:
    def courses(d: dict[str, Any]) -> None:
        d["levels"]["bronze"]["courses"] = [
            {"code": "IQT-1", "passRequired": True, "minimumScore": 1.5},
            {"code": "bad code", "passRequired": True, "minimumScore": None},
        ]

    found = errors_of(courses)
    assert set(found) == {"levels.bronze.courses.0.minimumScore", "levels.bronze.courses.1.code"}


def test_repeated_course_codes_are_refused() -> None:
    def repeated(d: dict[str, Any]) -> None:
        course = {"code": "IQT-1", "passRequired": True, "minimumScore": None}
        d["levels"]["bronze"]["courses"] = [course, course]

    assert "must not repeat IQT-1" in errors_of(repeated)["levels.bronze.courses"]


def test_without_the_catalogue_the_document_must_name_enough_courses() -> None:
    def nothing(d: dict[str, Any]) -> None:
        d["levels"]["bronze"]["catalogueCourses"] = False

    assert "levels.bronze.courses" in errors_of(nothing)

    def too_few(d: dict[str, Any]) -> None:
        d["levels"]["bronze"].update(
            catalogueCourses=False,
            courses=[{"code": "IQT-1", "passRequired": True, "minimumScore": None}],
            minimumCourses=2,
        )

    assert "levels.bronze.minimumCourses" in errors_of(too_few)


def test_the_document_is_immutable() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_RULES.levels.gold.minimum_mentored_projects = 5  # type: ignore[misc]
