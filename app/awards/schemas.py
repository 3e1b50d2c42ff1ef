"""Award rules and awards on the wire."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from app.awards.facts import Level
from app.awards.rules_document import DEFAULT_RULES_JSON, AwardRulesDocument
from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN
from app.core.pagination import Page
from app.core.schemas import NOT_SPACE, ApiInput, ApiModel


class AwardStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class RevocationCause(StrEnum):
    ADMINISTRATOR = "administrator"
    EVIDENCE_RETRACTED = "evidenceRetracted"
    LEVEL_BELOW_REVOKED = "levelBelowRevoked"


class AwardRulesRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "version": 1,
                "current": True,
                "createdAt": "2026-11-26T12:50:00Z",
                "createdBy": None,
                "document": DEFAULT_RULES_JSON,
            }
        }
    )

    version: int
    current: bool = Field(description="The version evaluations use now (the highest).")
    created_at: datetime
    created_by: str | None = Field(description="Client that posted it; null when seeded.")
    document: AwardRulesDocument


class AwardEvidence(ApiModel):
    completion_ids: list[int] = Field(
        description="The completions `attainedAt` rests on: the earliest that met the level's "
        "criteria."
    )
    project_ids: list[int] = Field(description="The approved projects it rests on, likewise.")
    legacy_reference: str | None = Field(
        description="For a legacy award: the reference it was recorded with."
    )


AWARD_EXAMPLE: dict[str, Any] = {
    "id": 812,
    "employeeNumber": "10293847",
    "organisation": "7A4",
    "level": "silver",
    "status": "active",
    "attainedAt": "2026-10-14T15:02:11Z",
    "grantedAt": "2026-10-14T15:02:12Z",
    "rulesVersion": 1,
    "evidence": {"completionIds": [], "projectIds": [4411], "legacyReference": None},
    "revokedAt": None,
    "revokedReason": None,
    "revocationCause": None,
    "createdAt": "2026-10-14T15:02:12Z",
    "updatedAt": "2026-10-14T15:02:12Z",
}


class AwardRead(ApiModel):
    model_config = ConfigDict(json_schema_extra={"example": AWARD_EXAMPLE})

    id: int
    employee_number: str
    organisation: str = Field(description="The holder's current organisation (ODS code).")
    level: Level
    status: AwardStatus
    attained_at: datetime = Field(
        description="When the evidence completed the level. It moves when earlier evidence "
        "arrives (platforms backfill history) or the evidence it rests on is retracted, each "
        "time with an `awardRedated` event; uptake `asOf` counts the award from this date. For "
        "a legacy award, when it was granted."
    )
    granted_at: datetime = Field(
        description="When this service granted it (never moves); for a legacy award, when it "
        "was granted before this service."
    )
    rules_version: int | None = Field(description="Rules it was granted under; null: legacy.")
    evidence: AwardEvidence
    revoked_at: datetime | None
    revoked_reason: str | None
    revocation_cause: RevocationCause | None
    created_at: datetime
    updated_at: datetime


class AwardPage(Page[AwardRead]):
    pass


class StaffAwards(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"employeeNumber": "10293847", "data": [AWARD_EXAMPLE]}}
    )

    employee_number: str
    data: list[AwardRead] = Field(description="Every award, active and revoked, oldest first.")


Reference = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=NOT_SPACE)
]
Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True, pattern=NOT_SPACE)
]


class LegacyAwardIn(ApiInput):
    """An award granted before this service existed."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "employeeNumber": "10293847",
                "level": "bronze",
                "grantedAt": "2019-06-30T00:00:00Z",
                "reference": "IQT Bronze register 2019, row 1182",
            }
        }
    )

    employee_number: Annotated[str, StringConstraints(pattern=EMPLOYEE_NUMBER_PATTERN)]
    level: Level
    granted_at: AwareDatetime = Field(description="When it was granted; not in the future.")
    reference: Reference = Field(description="Where the award is recorded (register, file).")


class RevocationIn(ApiInput):
    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "Recorded against the wrong person."}}
    )

    reason: Reason


class AwardRevocation(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "award": {
                    **AWARD_EXAMPLE,
                    "level": "bronze",
                    "status": "revoked",
                    "revokedAt": "2026-11-26T14:00:00Z",
                    "revokedReason": "Recorded against the wrong person.",
                    "revocationCause": "administrator",
                },
                "cascaded": [],
            }
        }
    )

    award: AwardRead
    cascaded: list[AwardRead] = Field(
        description="Higher levels of the same person revoked with it (they needed it)."
    )
