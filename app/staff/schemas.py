"""Staff records on the wire: what HR sends, what readers get, and batch results."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.core.email import WorkEmail
from app.core.identifiers import ODS_CODE_PATTERN, EmployeeNumber
from app.core.pagination import Page
from app.core.schemas import ApiInput, ApiModel, Echoed
from app.staff.fields import FIELDS

MAX_BATCH_RECORDS = 10_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only spaces")
    return value


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"\S"),
    AfterValidator(_not_blank),
]
StaffGroupRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    Field(description="ESR staff group: its name or two-digit code (answered as the name)."),
]

STAFF_EXAMPLE: dict[str, Any] = {
    "givenName": "Siân",
    "familyName": "Llŷr-O'Brien",
    "workEmail": "sian.llyr@wales.nhs.uk",
    "organisation": "7A4",
    "staffGroup": "Nursing and Midwifery Registered",
    "jobTitle": "Ward Sister",
    "boardMember": False,
    "startDate": "2019-04-01",
    "endDate": None,
}


class StaffFields(ApiInput):
    """The fields HR owns for one person (the employee number is the key)."""

    given_name: Name
    family_name: Name
    work_email: WorkEmail | None = None
    organisation: Annotated[str, StringConstraints(pattern=ODS_CODE_PATTERN)]
    staff_group: StaffGroupRef
    job_title: Annotated[str, StringConstraints(max_length=200)] | None = None
    board_member: bool = False
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> "StaffFields":
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("endDate must not be before startDate")
        return self


class StaffPut(StaffFields):
    """A whole staff record for ``PUT /staff/{employeeNumber}``."""

    model_config = ConfigDict(json_schema_extra={"example": dict(STAFF_EXAMPLE)})


class StaffPatch(ApiInput):
    """Only the fields to change (JSON merge patch): ``null`` removes an optional field
    (``boardMember`` is then false); the fields every record holds are changed, never removed."""

    model_config = ConfigDict(json_schema_extra={"example": {"jobTitle": "Matron"}})

    # Left out: unchanged; null is refused (SkipJsonSchema: the document says it is no value).
    given_name: Name | SkipJsonSchema[None] = None
    family_name: Name | SkipJsonSchema[None] = None
    work_email: WorkEmail | None = None
    organisation: (
        Annotated[str, StringConstraints(pattern=ODS_CODE_PATTERN)] | SkipJsonSchema[None]
    ) = None
    staff_group: StaffGroupRef | SkipJsonSchema[None] = None
    job_title: Annotated[str, StringConstraints(max_length=200)] | None = None
    board_member: bool | None = None
    start_date: date | SkipJsonSchema[None] = None
    end_date: date | None = None

    @field_validator(*(f.name for f in FIELDS if f.kept and f.patch))
    @classmethod
    def _kept(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("Every staff record has one: send a new value, not null")
        return value


class StaffBatchRecord(StaffFields):
    """One record of a batch. ``organisation`` may be left out to use the batch's."""

    employee_number: EmployeeNumber


class StaffRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "employeeNumber": "10293847",
                **STAFF_EXAMPLE,
                "active": True,
                "createdAt": "2026-11-26T10:15:00Z",
                "updatedAt": "2026-11-26T10:15:00Z",
            }
        }
    )

    employee_number: str
    given_name: str
    family_name: str
    work_email: str | None
    organisation: str
    staff_group: str = Field(description="ESR staff group name.")
    job_title: str | None
    board_member: bool
    start_date: date
    end_date: date | None
    active: bool = Field(description="Started, and end date (if any) not yet passed.")
    created_at: datetime
    updated_at: datetime


class StaffPage(Page[StaffRead]):
    pass


class StaffHistoryPeriod(ApiModel):
    """Where the person was from ``validFrom`` until the day before ``validTo``."""

    valid_from: date
    valid_to: date | None = Field(description="Exclusive; null while current.")
    organisation: str
    staff_group: str
    board_member: bool


class StaffHistoryRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "employeeNumber": "10293847",
                "periods": [
                    {
                        "validFrom": "2019-04-01",
                        "validTo": "2026-11-26",
                        "organisation": "7A6",
                        "staffGroup": "Nursing and Midwifery Registered",
                        "boardMember": False,
                    },
                    {
                        "validFrom": "2026-11-26",
                        "validTo": None,
                        "organisation": "7A4",
                        "staffGroup": "Nursing and Midwifery Registered",
                        "boardMember": False,
                    },
                ],
            }
        }
    )

    employee_number: str
    periods: list[StaffHistoryPeriod]


class BatchMode(StrEnum):
    UPSERT = "upsert"
    FULL_SNAPSHOT = "fullSnapshot"


class StaffBatchIn(ApiInput):
    """A batch of staff records (JSON). The same as CSV: see ``POST /staffBatches``."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "mode": "upsert",
                "organisation": "7A4",
                "records": [{"employeeNumber": "10293847", **STAFF_EXAMPLE}],
            }
        }
    )

    mode: BatchMode
    organisation: Annotated[str, StringConstraints(pattern=ODS_CODE_PATTERN)] | None = Field(
        default=None,
        description="Required for fullSnapshot; the default for records that leave it out.",
    )
    allow_mass_leavers: bool = False
    snapshot: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="With mode fullSnapshot: this batch is one part of the full snapshot opened "
        "with `POST /staffSnapshots`. Its records are stored, and nobody is end-dated until the "
        "snapshot is completed.",
    )
    # Checked one by one (see StaffBatchRecord), so one bad record never stops the others.
    records: list[dict[str, object]] = Field(max_length=MAX_BATCH_RECORDS)


class StaffBatch(StaffBatchIn):
    """A batch of staff records as JSON: at most 10,000 records."""

    records: list[StaffBatchRecord] = Field(max_length=MAX_BATCH_RECORDS)  # type: ignore[assignment]


class RecordRejection(ApiModel):
    row: int = Field(description="1-based position of the record in the batch (CSV: data row).")
    employee_number: Echoed | None = Field(
        description="As sent (cut to 200 characters when longer)."
    )
    reasons: list[dict[str, str]] = Field(description="`name` of the field and `reason`.")


class StaffBatchResult(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "mode": "upsert",
                "organisation": "7A4",
                "received": 3,
                "created": 1,
                "updated": 1,
                "unchanged": 0,
                "endDated": 0,
                "rejected": 1,
                "rejections": [
                    {
                        "row": 3,
                        "employeeNumber": "10293849",
                        "reasons": [{"name": "workEmail", "reason": "not a valid e-mail"}],
                    }
                ],
            }
        }
    )

    mode: Literal["upsert", "fullSnapshot"]
    organisation: str | None
    snapshot: int | None = Field(
        default=None, description="The full snapshot this batch is a part of, if any."
    )
    received: int
    created: int
    updated: int
    unchanged: int
    end_dated: int = Field(description="People end-dated by this batch (leavers).")
    rejected: int
    rejections: list[RecordRejection]


SNAPSHOT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "organisation": "7A1",
    "status": "open",
    "batches": 2,
    "received": 20000,
    "endDated": None,
    "createdAt": "2026-11-27T06:00:00Z",
    "completedAt": None,
}


class StaffSnapshotIn(ApiInput):
    """Opens a full snapshot of one organisation, to be sent in several batches."""

    model_config = ConfigDict(json_schema_extra={"example": {"organisation": "7A1"}})

    organisation: Annotated[str, StringConstraints(pattern=ODS_CODE_PATTERN)]


class StaffSnapshotRead(ApiModel):
    """A full snapshot sent in several batches, open until it is completed."""

    model_config = ConfigDict(json_schema_extra={"example": SNAPSHOT_EXAMPLE})

    id: int
    organisation: str
    status: Literal["open", "completed", "expired"] = Field(
        description="expired: opened more than 24 hours ago and never completed."
    )
    batches: int = Field(description="Batches sent as parts of it.")
    received: int = Field(description="Records those batches held.")
    end_dated: int | None = Field(
        description="People end-dated when it was completed (leavers); null while open."
    )
    created_at: datetime
    completed_at: datetime | None
