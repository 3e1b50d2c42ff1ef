"""Course completions on the wire: what platforms send, what readers get, batch results."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, ConfigDict, EmailStr, Field, StringConstraints

from app.core.identifiers import EmployeeNumber
from app.core.pagination import Page
from app.core.schemas import ApiInput, ApiModel, Echoed
from app.courses.schemas import CourseCode

MAX_BATCH_RECORDS = 10_000


class MatchStatus(StrEnum):
    MATCHED = "matched"
    UNMATCHED = "unmatched"


class CompletionStatus(StrEnum):
    RECORDED = "recorded"
    RETRACTED = "retracted"


class Channel(StrEnum):
    API = "api"
    BATCH = "batch"
    XAPI = "xapi"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only spaces")
    return value


ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"\S"),
    AfterValidator(_not_blank),
    Field(description="The platform's own id for this completion (deduplication key)."),
]

COMPLETION_EXAMPLE: dict[str, Any] = {
    "employeeNumber": "10293847",
    "workEmail": "sian.llyr@wales.nhs.uk",
    "courseCode": "IQT-BRONZE",
    "completedAt": "2026-11-20T14:03:00Z",
    "passed": True,
    "scoreScaled": 0.9,
    "externalId": "moodle-cc-88213",
}


class CompletionFields(ApiInput):
    """One completion as a platform sends it: the person by employee number and/or work
    e-mail (at least one), the course, when, and the result."""

    employee_number: EmployeeNumber | None = None
    work_email: EmailStr | None = None
    course_code: CourseCode
    completed_at: AwareDatetime = Field(description="RFC 3339, with a UTC offset.")
    passed: bool | None = None
    score_scaled: float | None = Field(default=None, ge=0, le=1, description="Score, 0 to 1.")
    external_id: ExternalId


class CompletionIn(CompletionFields):
    """``POST /completions``."""

    model_config = ConfigDict(json_schema_extra={"example": dict(COMPLETION_EXAMPLE)})


class CompletionRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 4711,
                **COMPLETION_EXAMPLE,
                "source": "iqt_5f0c6a3e1c55a4f9a8f2",
                "channel": "api",
                "matchStatus": "matched",
                "matchReason": None,
                "matchedEmployeeNumber": "10293847",
                "matchedAt": "2026-11-20T14:03:02Z",
                "status": "recorded",
                "retractedAt": None,
                "retractionReason": None,
                "createdAt": "2026-11-20T14:03:02Z",
                "updatedAt": "2026-11-20T14:03:02Z",
            }
        }
    )

    id: int
    employee_number: str | None = Field(description="As the platform sent it.")
    work_email: str | None = Field(description="As the platform sent it.")
    course_code: str
    completed_at: datetime
    passed: bool | None
    score_scaled: float | None
    external_id: str
    source: str = Field(description="The client (platform) that sent it.")
    channel: Channel = Field(description="api, batch or xapi.")
    match_status: MatchStatus
    match_reason: str | None = Field(description="Why it is still unmatched.")
    matched_employee_number: str | None = Field(description="The staff member it matched.")
    matched_at: datetime | None
    status: CompletionStatus
    retracted_at: datetime | None
    retraction_reason: str | None
    created_at: datetime
    updated_at: datetime


class CompletionPage(Page[CompletionRead]):
    pass


class RetractionIn(ApiInput):
    model_config = ConfigDict(json_schema_extra={"example": {"reason": "Recorded in error."}})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Why the completion is retracted."
    )


class CompletionBatchIn(ApiInput):
    """A batch of completions (JSON). The same as CSV: see ``POST /completionBatches``."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"records": [dict(COMPLETION_EXAMPLE)]}}
    )

    # Checked one by one (see CompletionFields), so one bad record never stops the others.
    records: list[Any] = Field(max_length=MAX_BATCH_RECORDS)


class CompletionBatch(CompletionBatchIn):
    """A batch of completions as JSON: at most 10,000 records."""

    records: list[CompletionFields] = Field(max_length=MAX_BATCH_RECORDS)


class CompletionRejection(ApiModel):
    row: int = Field(description="1-based position of the record in the batch (CSV: data row).")
    external_id: Echoed | None = Field(description="As sent (cut to 200 characters when longer).")
    reasons: list[dict[str, str]] = Field(description="`name` of the field and `reason`.")


class CompletionBatchResult(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "received": 3,
                "recorded": 1,
                "matched": 1,
                "unmatched": 0,
                "unchanged": 1,
                "rejected": 1,
                "rejections": [
                    {
                        "row": 3,
                        "externalId": "moodle-cc-88215",
                        "reasons": [{"name": "courseCode", "reason": "Unknown course IQT-GOLD."}],
                    }
                ],
            }
        }
    )

    received: int
    recorded: int = Field(description="New completions stored by this batch.")
    matched: int = Field(description="Of those recorded, matched to a staff member.")
    unmatched: int = Field(description="Of those recorded, kept until HR sends the person.")
    unchanged: int = Field(description="Sent before with the same content: nothing written.")
    rejected: int
    rejections: list[CompletionRejection]
