"""The award rules document: versioned data, validated with the path of every malformed part.

Every threshold and course list lives here. Bronze may take its courses from the catalogue
(``catalogueCourses``: courses whose ``countsTowards`` is bronze, each with its own
``passRequired`` and ``minimumScore``) and/or name them (``courses``: code, ``passRequired``,
``minimumScore``; a named course overrides the catalogue's settings for that code). Scores are
scaled 0..1. Every field except ``description`` is required, so a document that leaves one out
is refused rather than silently filled in.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, ValidationInfo
from pydantic import field_validator as _field_validator

from app.awards.facts import ProjectOutcome, ProjectRole
from app.core.schemas import ApiInput

COURSE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$"
ALL_OUTCOMES = tuple(ProjectOutcome)


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"must not repeat {', '.join(repeated)}")
    return values


Roles = Annotated[
    tuple[ProjectRole, ...],
    Field(min_length=1, max_length=len(ProjectRole), json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]
Outcomes = Annotated[
    tuple[ProjectOutcome, ...],
    Field(
        min_length=1,
        max_length=len(ProjectOutcome),
        description="Project outcomes that count (`worse` counts too).",
        json_schema_extra={"uniqueItems": True},
    ),
    AfterValidator(_distinct),
]


class RulesPart(ApiInput):
    model_config = ConfigDict(frozen=True)


class CourseRequirement(RulesPart):
    """A course that counts, named by code, with its own pass and score settings."""

    code: Annotated[str, StringConstraints(pattern=COURSE_CODE_PATTERN)]
    pass_required: bool
    minimum_score: float | None = Field(ge=0, le=1, description="Scaled 0..1; null: none.")


class BronzeRequirements(RulesPart):
    catalogue_courses: bool = Field(
        description="Courses the catalogue marks `countsTowards: bronze` count, each with its "
        "own passRequired and minimumScore."
    )
    courses: tuple[CourseRequirement, ...] = Field(
        max_length=500, description="Courses that count, named here (override the catalogue)."
    )
    minimum_courses: int = Field(ge=1, le=50, description="Distinct courses to complete.")

    @_field_validator("courses")
    @classmethod
    def _courses(
        cls, courses: tuple[CourseRequirement, ...], info: ValidationInfo
    ) -> tuple[CourseRequirement, ...]:
        _distinct(tuple(c.code for c in courses))
        if not courses and info.data.get("catalogue_courses") is False:
            raise ValueError("must name at least one course when catalogueCourses is false")
        return courses

    @_field_validator("minimum_courses")
    @classmethod
    def _enough_courses(cls, minimum: int, info: ValidationInfo) -> int:
        courses = info.data.get("courses")
        if info.data.get("catalogue_courses") is False and courses and minimum > len(courses):
            raise ValueError(f"is more than the {len(courses)} course(s) named in courses")
        return minimum


class SilverRequirements(RulesPart):
    minimum_projects: int = Field(ge=1, le=100, description="Approved projects needed.")
    roles: Roles = Field(description="Team roles that count (default: lead, member).")
    outcomes: Outcomes


class GoldRequirements(RulesPart):
    minimum_mentored_projects: int = Field(ge=1, le=100, description="Approved projects needed.")
    roles: Roles = Field(description="Team roles that count (default: mentor).")
    outcomes: Outcomes
    lead_must_be_another_person: bool = Field(
        description="Only projects led by someone else count (mentoring your own does not)."
    )


class LevelRequirements(RulesPart):
    bronze: BronzeRequirements
    silver: SilverRequirements
    gold: GoldRequirements


DEFAULT_RULES_JSON: dict[str, Any] = {
    "description": "IQT awards, version 1: Bronze for the IQT e-learning, Silver for an "
    "approved improvement project (any outcome), Gold for mentoring two others' projects.",
    "levels": {
        "bronze": {"catalogueCourses": True, "courses": [], "minimumCourses": 1},
        "silver": {
            "minimumProjects": 1,
            "roles": ["lead", "member"],
            "outcomes": ["improved", "noChange", "worse", "inconclusive"],
        },
        "gold": {
            "minimumMentoredProjects": 2,
            "roles": ["mentor"],
            "outcomes": ["improved", "noChange", "worse", "inconclusive"],
            "leadMustBeAnotherPerson": True,
        },
    },
}


class AwardRulesDocument(RulesPart):
    """Per level, what it takes. Levels are cumulative: Silver needs Bronze, Gold needs Silver."""

    model_config = ConfigDict(json_schema_extra={"example": DEFAULT_RULES_JSON})

    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    levels: LevelRequirements

    def to_json(self) -> dict[str, Any]:
        """The document as stored and answered (lowerCamelCase)."""
        return self.model_dump(mode="json", by_alias=True)


DEFAULT_RULES = AwardRulesDocument.model_validate(DEFAULT_RULES_JSON)
