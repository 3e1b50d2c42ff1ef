"""Improvement projects on the wire: what the project platform sends and what readers get."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN, ODS_CODE_PATTERN
from app.core.pagination import Page
from app.core.schemas import NOT_SPACE, ApiInput, ApiModel
from app.projects.lifecycle import ProjectAction, ProjectStatus

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_SPACE)
]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
OdsCode = Annotated[str, StringConstraints(pattern=ODS_CODE_PATTERN)]
EmployeeNumber = Annotated[str, StringConstraints(pattern=EMPLOYEE_NUMBER_PATTERN)]


class MeasureKind(StrEnum):
    OUTCOME = "outcome"
    PROCESS = "process"
    BALANCING = "balancing"


class Outcome(StrEnum):
    IMPROVED = "improved"
    NO_CHANGE = "noChange"
    WORSE = "worse"
    INCONCLUSIVE = "inconclusive"


class TeamRole(StrEnum):
    LEAD = "lead"
    MEMBER = "member"
    SPONSOR = "sponsor"
    MENTOR = "mentor"


class Measure(ApiInput):
    name: ShortText
    kind: MeasureKind
    description: LongText | None = None


class ChangeTested(ApiInput):
    """One PDSA cycle: plan, do, study, act."""

    title: ShortText
    plan: LongText | None = None
    do: LongText | None = None
    study: LongText | None = None
    act: LongText | None = None
    started_on: date | None = None
    ended_on: date | None = None

    @model_validator(mode="after")
    def _ended_after_started(self) -> "ChangeTested":
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValueError("endedOn must not be before startedOn")
        return self


class TeamMember(ApiInput):
    employee_number: EmployeeNumber = Field(description="A staff member known to the service.")
    role: TeamRole


class ProjectLink(ApiInput):
    """Stored as text and never fetched by the service."""

    title: ShortText
    url: Annotated[str, StringConstraints(max_length=2000, pattern=f"^https?://{NOT_SPACE}+$")]


def _valid_team(team: list[TeamMember]) -> list[TeamMember]:
    numbers = [member.employee_number for member in team]
    if len(set(numbers)) != len(numbers):
        raise ValueError("each person appears once, with one role")
    if sum(member.role == TeamRole.LEAD for member in team) > 1:
        raise ValueError("a project has exactly one lead")
    return team


Team = Annotated[list[TeamMember], Field(max_length=100), AfterValidator(_valid_team)]

PROJECT_EXAMPLE: dict[str, Any] = {
    "title": "Fewer missed insulin doses on ward C4",
    "organisation": "7A4",
    "area": "Diabetes care, ward C4",
    "problem": "One in eight insulin doses on C4 was given late or missed.",
    "aim": "Reduce late or missed insulin doses to fewer than 1 in 20 within 6 months.",
    "measures": [
        {"name": "Doses late or missed", "kind": "outcome", "description": "Weekly audit."},
        {"name": "Handover checklist used", "kind": "process", "description": None},
    ],
    "changes": [
        {
            "title": "Insulin prompt on the handover sheet",
            "plan": "Add a prompt for insulin due in the next 2 hours.",
            "do": "Trialled on day shifts for 2 weeks.",
            "study": "Late doses fell from 12% to 7%.",
            "act": "Adopt, and extend to night shifts.",
            "startedOn": "2026-03-02",
            "endedOn": "2026-03-16",
        }
    ],
    "outcome": "improved",
    "learning": "Small prompts at handover worked better than training alone.",
    "sustainabilityAndSpread": "The prompt is now part of the ward's standard handover sheet.",
    "team": [
        {"employeeNumber": "10293847", "role": "lead"},
        {"employeeNumber": "10293848", "role": "member"},
        {"employeeNumber": "20000001", "role": "mentor"},
    ],
    "links": [{"title": "Run chart", "url": "https://example.nhs.wales/c4-insulin"}],
}


class ProjectFields(ApiInput):
    """A project as the platform describes it. A draft may leave most fields empty; submission
    requires a lead, problem, aim, at least one change tested, outcome and learning."""

    model_config = ConfigDict(json_schema_extra={"example": PROJECT_EXAMPLE})

    title: ShortText
    organisation: OdsCode
    area: ShortText | None = None
    problem: LongText | None = None
    aim: LongText | None = None
    measures: Annotated[list[Measure], Field(max_length=50)] = []
    changes: Annotated[list[ChangeTested], Field(max_length=50)] = Field(
        default=[], description="Changes tested, as PDSA cycles."
    )
    outcome: Outcome | None = Field(
        default=None, description="noChange and worse are approvable: the attempt counts."
    )
    learning: LongText | None = Field(default=None, description="Learning and reflection.")
    sustainability_and_spread: LongText | None = None
    team: Team = Field(
        default=[], description="Roles: lead (exactly one), member, sponsor, mentor."
    )
    links: Annotated[list[ProjectLink], Field(max_length=50)] = []


class ProjectPatch(ApiInput):
    """Only the fields to change (JSON merge patch): lists are replaced whole; ``null`` clears
    an optional field."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"outcome": "worse", "learning": "What we learned..."}}
    )

    title: ShortText | None = None
    organisation: OdsCode | None = None
    area: ShortText | None = None
    problem: LongText | None = None
    aim: LongText | None = None
    measures: Annotated[list[Measure], Field(max_length=50)] | None = None
    changes: Annotated[list[ChangeTested], Field(max_length=50)] | None = None
    outcome: Outcome | None = None
    learning: LongText | None = None
    sustainability_and_spread: LongText | None = None
    team: Team | None = None
    links: Annotated[list[ProjectLink], Field(max_length=50)] | None = None


class ProjectRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 42,
                **PROJECT_EXAMPLE,
                "status": "submitted",
                "allowedActions": ["edit", "approve", "return", "withdraw"],
                "submittedAt": "2026-11-26T10:15:00Z",
                "approvedAt": None,
                "withdrawnAt": None,
                "createdAt": "2026-11-20T09:00:00Z",
                "updatedAt": "2026-11-26T10:15:00Z",
            }
        }
    )

    id: int
    title: str
    organisation: str
    area: ShortText | None
    problem: LongText | None
    aim: LongText | None
    measures: list[Measure]
    changes: list[ChangeTested]
    outcome: Outcome | None
    learning: LongText | None
    sustainability_and_spread: LongText | None
    team: list[TeamMember]
    links: list[ProjectLink]
    status: ProjectStatus
    allowed_actions: list[ProjectAction] = Field(
        description="What may happen next: edit (PATCH), submit (POST .../submission), "
        "approve or return (POST .../reviews), withdraw (POST .../withdrawal)."
    )
    submitted_at: datetime | None
    approved_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProjectPage(Page[ProjectRead]):
    pass


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class RubricScores(ApiInput):
    """Scores on the Silver rubric; the total is out of 50."""

    principles: int = Field(ge=0, le=5)
    aim: int = Field(ge=0, le=10)
    measures: int = Field(ge=0, le=10)
    changes: int = Field(ge=0, le=10)
    sustainability_and_spread: int = Field(ge=0, le=10)
    reflection: int = Field(ge=0, le=5)


SCORES_EXAMPLE: dict[str, Any] = {
    "principles": 4,
    "aim": 7,
    "measures": 6,
    "changes": 8,
    "sustainabilityAndSpread": 5,
    "reflection": 4,
}


class ReviewIn(ApiInput):
    """A reviewer's marks and decision. ``approved`` needs a total at or above the configured
    pass mark; ``returned`` needs comments. The reviewer is the staff member named by
    ``reviewerEmployeeNumber`` (the calling client is the reviewing system); they must be known
    to the service and not on the project's team."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "reviewerEmployeeNumber": "30000001",
                "scores": SCORES_EXAMPLE,
                "decision": "approved",
                "comments": "A genuine attempt, honestly reflected on.",
            }
        }
    )

    reviewer_employee_number: EmployeeNumber
    scores: RubricScores
    decision: ReviewDecision
    comments: LongText | None = None


class ReviewRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 7,
                "projectId": 42,
                "reviewerEmployeeNumber": "30000001",
                "reviewerClientId": "iqt_3f2a9c0d1e2b4a5c6d7e",
                "scores": SCORES_EXAMPLE,
                "total": 34,
                "passMark": 25,
                "decision": "approved",
                "comments": "A genuine attempt, honestly reflected on.",
                "reviewedAt": "2026-11-26T10:15:00Z",
            }
        }
    )

    id: int
    project_id: int
    reviewer_employee_number: str
    reviewer_client_id: str = Field(description="The system that recorded the review.")
    scores: RubricScores
    total: int = Field(description="Out of 50.")
    pass_mark: int = Field(description="The pass mark in force when the review was recorded.")
    decision: ReviewDecision
    comments: str | None
    reviewed_at: datetime


class ReviewPage(Page[ReviewRead]):
    pass
