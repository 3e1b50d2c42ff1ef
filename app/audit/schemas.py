from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from app.core.pagination import Page
from app.core.schemas import ApiModel


class AuditRecordRead(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 42,
                "occurredAt": "2026-11-26T10:15:00Z",
                "clientId": "iqt_3f2a9c0d1e2b4a5c6d7e",
                "action": "update",
                "resourceType": "organisation",
                "resourceId": "7A4",
                "organisation": "7A4",
                "requestId": "5f0c6a3e-1c55-4a5f-9a8f-2a6f6f0b1a2c",
                "outcome": "success",
                "statusCode": None,
            }
        }
    )

    id: int
    occurred_at: datetime
    client_id: str | None
    action: str = Field(description="create, update, read, list, retract, ...")
    resource_type: str
    resource_id: str | None
    organisation: str | None = Field(validation_alias="organisation_ods_code")
    request_id: str
    outcome: Literal["success", "failure"]
    status_code: int | None = Field(
        description="For a failure, the status the client was answered."
    )


class AuditRecordPage(Page[AuditRecordRead]):
    pass
