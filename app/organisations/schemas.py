from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from app.core.identifiers import ODS_CODE_PATTERN
from app.core.pagination import Page
from app.core.schemas import ApiInput, ApiModel


class OrganisationType(StrEnum):
    HEALTH_BOARD = "healthBoard"
    TRUST = "trust"
    SPECIAL_HEALTH_AUTHORITY = "specialHealthAuthority"
    OTHER = "other"


class OrganisationPut(ApiInput):
    """The whole organisation; the ODS code comes from the path."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "Cardiff and Vale University Health Board",
                "type": "healthBoard",
                "parentOdsCode": None,
                "active": True,
            }
        }
    )

    name: str = Field(min_length=1, max_length=200)
    type: OrganisationType
    parent_ods_code: str | None = Field(default=None, pattern=ODS_CODE_PATTERN)
    active: bool = True


class OrganisationRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "odsCode": "7A4",
                "name": "Cardiff and Vale University Health Board",
                "type": "healthBoard",
                "parentOdsCode": None,
                "active": True,
                "createdAt": "2026-11-26T10:15:00Z",
                "updatedAt": "2026-11-26T10:15:00Z",
            }
        }
    )

    ods_code: str
    name: str
    type: OrganisationType
    parent_ods_code: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class OrganisationPage(Page[OrganisationRead]):
    pass
