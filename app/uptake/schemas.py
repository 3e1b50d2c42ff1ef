"""Uptake responses: flat rows (the same rows as the CSV), never personal data."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, ConfigDict, Field

from app.core.identifiers import ODS_CODE_PATTERN
from app.core.pagination import Page
from app.core.schemas import ApiInput, ApiModel


class Dimension(StrEnum):
    ORGANISATION = "organisation"
    STAFF_GROUP = "staffGroup"
    BOARD_MEMBER = "boardMember"


class Interval(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_ROW_EXAMPLE: dict[str, Any] = {
    "asOf": "2026-11-26",
    "organisation": "7A4",
    "staffGroup": None,
    "boardMember": None,
    "headcount": 16210,
    "atLeastBronze": 2430,
    "atLeastBronzePercentage": 15.0,
    "atLeastSilver": 210,
    "atLeastSilverPercentage": 1.3,
    "gold": None,
    "goldPercentage": None,
    "bronzeTargetPercentage": 100,
    "suppressed": True,
}


_CONTROLLED = (
    " Without `staff:read`: 0, null (1 to 7: withheld) or rounded to the nearest 5 (a figure F "
    "means F-2 to F+2)."
)
_PERCENTAGE = (
    " Without `staff:read`: computed from the rounded figures, null when either is withheld."
)


class UptakeRow(ApiModel):
    """One group's figures on one date. A dimension not grouped by is null. Each count is the
    group's exact count, controlled on its own for clients without `staff:read`: rows need not
    add up to the row of a coarser grouping."""

    model_config = ConfigDict(json_schema_extra={"example": _ROW_EXAMPLE})

    as_of: date = Field(description="The date the figures are for.")
    organisation: str | None = Field(description="ODS code, when grouped by organisation.")
    staff_group: str | None = Field(description="ESR staff group name, when grouped by it.")
    board_member: bool | None = Field(description="Board members or not, when grouped by it.")
    headcount: int | None = Field(description="Staff active on the date." + _CONTROLLED)
    at_least_bronze: int | None = Field(description="Holding Bronze or above." + _CONTROLLED)
    at_least_bronze_percentage: float | None = Field(
        description="Of headcount, 1 decimal." + _PERCENTAGE
    )
    at_least_silver: int | None = Field(description="Holding Silver or Gold." + _CONTROLLED)
    at_least_silver_percentage: float | None = Field(
        description="Of headcount, 1 decimal." + _PERCENTAGE
    )
    gold: int | None = Field(description="Holding Gold." + _CONTROLLED)
    gold_percentage: float | None = Field(description="Of headcount, 1 decimal." + _PERCENTAGE)
    bronze_target_percentage: int = Field(100, description="The national aim: everyone Bronze.")
    suppressed: bool = Field(description="True when any count of this row is withheld (1 to 7).")


class UptakeFreshness(ApiModel):
    """How current the figures are. The summary they are read from is brought up to date in
    the background after each change, usually within a few seconds; the same figures are in
    the `IQT-Uptake-Up-To` and `IQT-Uptake-Lag-Seconds` headers of every answer, CSV too."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"upTo": "2026-11-26T09:30:01.250000Z", "lagSeconds": 0.8}}
    )

    up_to: datetime = Field(
        description="Every change committed before this instant is counted; a later one may "
        "not be yet (when nothing was waiting to be counted: the time the figures were read)."
    )
    lag_seconds: float = Field(
        ge=0, description="How many seconds the figures are behind the time of this answer."
    )


_FRESHNESS = "How current the figures are (the headers say the same)."


class UptakeReport(ApiModel):
    as_of: date
    group_by: list[Dimension]
    freshness: UptakeFreshness = Field(description=_FRESHNESS)
    data: list[UptakeRow]


class UptakeSeriesRow(UptakeRow):
    """A group's figures at the end of one period (today, for the period still running)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {**_ROW_EXAMPLE, "periodStart": "2026-10-01", "periodEnd": "2026-12-31"}
        }
    )

    period_start: date
    period_end: date


class UptakeTimeSeries(ApiModel):
    interval: Interval
    from_: date = Field(alias="from")
    to: date
    group_by: list[Dimension]
    freshness: UptakeFreshness = Field(description=_FRESHNESS)
    data: list[UptakeSeriesRow]


class BoardRow(ApiModel):
    """An organisation's board in one period: coverage at its end, meetings within it."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "organisation": "7A4",
                "periodStart": "2026-07-01",
                "periodEnd": "2026-09-30",
                "asOf": "2026-09-30",
                "boardMembers": 15,
                "atLeastBronze": 10,
                "atLeastBronzePercentage": 66.7,
                "bronzeTargetPercentage": 100,
                "belowTarget": True,
                "meetingsHeld": 3,
                "meetingsDiscussingQi": 2,
                "suppressed": False,
            }
        }
    )

    organisation: str
    period_start: date
    period_end: date
    as_of: date = Field(description="The date of the coverage figures: the period end or today.")
    board_members: int | None = Field(description="Board members active on asOf." + _CONTROLLED)
    at_least_bronze: int | None = Field(
        description="Board members holding Bronze or above." + _CONTROLLED
    )
    at_least_bronze_percentage: float | None = Field(
        description="Of board members, 1 decimal." + _PERCENTAGE
    )
    bronze_target_percentage: int = 100
    below_target: bool | None = Field(
        description="At least one board member active on asOf does not hold Bronze. From the "
        "exact counts: it tells zero from not zero, as a published count of 0 does, no more."
    )
    meetings_held: int = Field(description="Board meetings held in the period (not controlled).")
    meetings_discussing_qi: int = Field(description="Of those, meetings that discussed QI.")
    suppressed: bool = Field(description="True when a count of this row is withheld (1 to 7).")


class BoardReport(ApiModel):
    interval: Interval
    from_: date = Field(alias="from")
    to: date
    organisations_below_target: list[str] = Field(
        description="Below target at the end of the last period (see `belowTarget`)."
    )
    freshness: UptakeFreshness = Field(description=_FRESHNESS)
    data: list[BoardRow]


class ProjectsRow(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "organisation": "7A4",
                "periodStart": "2026-01-01",
                "periodEnd": "2026-12-31",
                "status": "approved",
                "outcome": "improved",
                "projects": 15,
                "suppressed": False,
            }
        }
    )

    organisation: str
    period_start: date | None = Field(description="Null unless an interval was asked for.")
    period_end: date | None
    status: str
    outcome: str | None
    projects: int | None = Field(
        description="Projects in this organisation, period, status and outcome." + _CONTROLLED
    )
    suppressed: bool = Field(description="True when `projects` is withheld (1 to 7).")


class ProjectsReport(ApiModel):
    interval: Interval | None
    data: list[ProjectsRow]


MEETING_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class BoardMeetingPut(ApiInput):
    """A board meeting; its id (chosen by the recording system) comes from the path."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "organisation": "7A4",
                "meetingDate": "2026-11-05",
                "qiDiscussed": True,
                "agendaReference": "Item 7: IQT uptake report",
            }
        }
    )

    organisation: str = Field(pattern=ODS_CODE_PATTERN)
    meeting_date: date
    qi_discussed: bool
    agenda_reference: str | None = Field(default=None, max_length=500)


class BoardMeetingRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "7A4-2026-11-05",
                "organisation": "7A4",
                "meetingDate": "2026-11-05",
                "qiDiscussed": True,
                "agendaReference": "Item 7: IQT uptake report",
                "updatedAt": "2026-11-06T09:12:00Z",
            }
        }
    )

    id: str = Field(validation_alias=AliasChoices("meeting_id", "id"))
    organisation: str = Field(
        validation_alias=AliasChoices("organisation_ods_code", "organisation")
    )
    meeting_date: date
    qi_discussed: bool
    agenda_reference: str | None
    updated_at: datetime


class BoardMeetingPage(Page[BoardMeetingRead]):
    pass
