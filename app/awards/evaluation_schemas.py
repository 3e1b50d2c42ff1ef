"""A person's progress, a re-evaluation job and a rules preview on the wire."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.awards.facts import Level
from app.core.schemas import ApiModel

_BRONZE_MET = {
    "name": "courses",
    "description": "A passed completion of 1 course that count towards Bronze, at the minimum "
    "score where one is set.",
    "met": True,
    "required": 1,
    "counted": 1,
    "metAt": "2026-02-03T10:15:00Z",
    "missing": None,
    "completionIds": [5521],
    "projectIds": [],
    "awardIds": [],
}
PROGRESS_EXAMPLE: dict[str, Any] = {
    "employeeNumber": "10293847",
    "organisation": "7A4",
    "rulesVersion": 1,
    "level": "bronze",
    "nextLevel": "silver",
    "levels": [
        {
            "level": "bronze",
            "reached": True,
            "reachedAt": "2026-02-03T10:15:00Z",
            "attained": True,
            "heldAwardId": 812,
            "criteria": [_BRONZE_MET],
        },
        {
            "level": "silver",
            "reached": False,
            "reachedAt": None,
            "attained": False,
            "heldAwardId": None,
            "criteria": [
                {
                    **_BRONZE_MET,
                    "name": "levelBelow",
                    "description": "Holds Bronze (levels are cumulative).",
                    "completionIds": [],
                    "awardIds": [812],
                },
                {
                    "name": "projects",
                    "description": "At least 1 approved improvement project as lead or member "
                    "(the outcome need not be an improvement).",
                    "met": False,
                    "required": 1,
                    "counted": 0,
                    "metAt": None,
                    "missing": "1 more approved project as lead or member",
                    "completionIds": [],
                    "projectIds": [],
                    "awardIds": [],
                },
            ],
        },
    ],
}


class CriterionRead(ApiModel):
    name: str = Field(description="courses, projects, mentoredProjects or levelBelow.")
    description: str
    met: bool
    required: int
    counted: int
    met_at: datetime | None = Field(description="When the evidence first met it.")
    missing: str | None = Field(description="What would meet it, e.g. '1 more mentored project'.")
    completion_ids: list[int]
    project_ids: list[int]
    award_ids: list[int] = Field(description="Awards held that meet levelBelow.")


class LevelProgress(ApiModel):
    level: Level
    reached: bool = Field(description="Every criterion is met by evidence.")
    reached_at: datetime | None
    attained: bool = Field(description="Reached, or an award of this level or above is held.")
    held_award_id: int | None = Field(description="The active award of exactly this level.")
    criteria: list[CriterionRead]


class ProgressRead(ApiModel):
    model_config = ConfigDict(json_schema_extra={"example": PROGRESS_EXAMPLE})

    employee_number: str
    organisation: str
    rules_version: int = Field(description="The current rules version it is explained under.")
    level: Level | None = Field(description="The highest level attained; null: none yet.")
    next_level: Level | None = Field(description="The level to aim for next; null: Gold held.")
    levels: list[LevelProgress] = Field(description="Every level, lowest first.")


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class EvaluationJobRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "rulesVersion": 2,
                "status": "running",
                "done": 42000,
                "total": 95210,
                "granted": 311,
                "createdAt": "2026-11-26T14:00:00Z",
                "startedAt": "2026-11-26T14:00:01Z",
                "finishedAt": None,
                "lastError": None,
            }
        }
    )

    rules_version: int
    status: JobStatus = Field(
        description="pending, running, done, or superseded by a newer version's job."
    )
    done: int = Field(description="People evaluated so far.")
    total: int = Field(description="People to evaluate (fixed when the job starts).")
    granted: int = Field(description="Awards granted by the job so far.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None = Field(description="The last failure; the job is retried.")


class LevelCounts(ApiModel):
    bronze: int
    silver: int
    gold: int


class OrganisationPreview(LevelCounts):
    organisation: str = Field(description="ODS code of the people's current organisation.")


class RulesPreviewRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "currentRulesVersion": 1,
                "evaluated": 95210,
                "newlyReached": {"bronze": 0, "silver": 0, "gold": 412},
                "organisations": [
                    {"organisation": "7A1", "bronze": 0, "silver": 0, "gold": 80},
                    {"organisation": "7A4", "bronze": 0, "silver": 0, "gold": 61},
                ],
            }
        }
    )

    current_rules_version: int = Field(description="The rules in force it is compared with.")
    evaluated: int = Field(description="People evaluated (those visible to the client).")
    newly_reached: LevelCounts = Field(
        description="People who would be granted each level under the candidate rules."
    )
    organisations: list[OrganisationPreview] = Field(
        description="The same, by current organisation; organisations with none left out."
    )
