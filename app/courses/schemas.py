"""The course catalogue on the wire."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator

from app.core.pagination import Page
from app.core.schemas import ApiInput, ApiModel

COURSE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$"
# An absolute IRI: a scheme, a colon, and no spaces (xAPI activity ids are IRIs).
IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"

IQT_BRONZE_ACTIVITY_ID = "https://learning.nhs.wales/xapi/activities/iqt-bronze"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only spaces")
    return value


Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"\S"),
    AfterValidator(_not_blank),
]
CourseCode = Annotated[str, StringConstraints(pattern=COURSE_CODE_PATTERN)]
ActivityId = Annotated[str, StringConstraints(max_length=500, pattern=IRI_PATTERN)]


class CountsTowards(StrEnum):
    BRONZE = "bronze"


COURSE_EXAMPLE: dict[str, Any] = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
    "minimumScore": None,
    "xapiActivityIds": [IQT_BRONZE_ACTIVITY_ID],
    "active": True,
}


class CoursePut(ApiInput):
    """The whole course; the code comes from the path."""

    model_config = ConfigDict(json_schema_extra={"example": dict(COURSE_EXAMPLE)})

    title: Text
    provider: Text
    counts_towards: CountsTowards | None = Field(
        default=None, description="The IQT level a completion counts towards, or null."
    )
    pass_required: bool = Field(default=False, description="Only a passed completion counts.")
    minimum_score: float | None = Field(
        default=None, ge=0, le=1, description="Scaled score (0 to 1) a completion needs to count."
    )
    xapi_activity_ids: list[ActivityId] = Field(
        default_factory=list,
        max_length=50,
        json_schema_extra={"uniqueItems": True},
        description="xAPI activity ids (IRIs) whose completed/passed/failed statements are "
        "completions of this course. Each belongs to one course at most.",
    )
    active: bool = True

    @field_validator("xapi_activity_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        if len(set(ids)) != len(ids):
            raise ValueError("lists an activity id more than once")
        return ids


class CourseRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "courseCode": "IQT-BRONZE",
                **COURSE_EXAMPLE,
                "createdAt": "2026-11-26T10:15:00Z",
                "updatedAt": "2026-11-26T10:15:00Z",
            }
        }
    )

    course_code: str
    title: str
    provider: str
    counts_towards: CountsTowards | None
    pass_required: bool
    minimum_score: float | None
    xapi_activity_ids: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class CoursePage(Page[CourseRead]):
    pass
