from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.core.pagination import Link
from app.core.schemas import ApiModel


class EventRead(ApiModel):
    id: int
    cursor: str = Field(description="Resume after this event with `after=<cursor>`.")
    type: str = Field(examples=["organisationChanged"])
    occurred_at: datetime
    resource_type: str
    resource_id: str
    organisation: str | None
    client_id: str | None = Field(description="The client whose request caused the event.")
    data: dict[str, Any]


class EventFeedMeta(ApiModel):
    count: int
    after: str | None = Field(
        description="The cursor to resume from: the last event's, or the one you sent."
    )


class EventFeed(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [
                    {
                        "id": 17,
                        "cursor": "7421-17",
                        "type": "organisationChanged",
                        "occurredAt": "2026-11-26T10:15:00Z",
                        "resourceType": "organisation",
                        "resourceId": "7A4",
                        "organisation": "7A4",
                        "clientId": "iqt_3f2a9c0d1e2b4a5c6d7e",
                        "data": {"changed": ["name"]},
                    }
                ],
                "links": [
                    {"rel": "self", "href": "http://127.0.0.1:8000/events?limit=100"},
                    {"rel": "next", "href": "http://127.0.0.1:8000/events?limit=100&after=7421-17"},
                ],
                "meta": {"count": 1, "after": "7421-17"},
            }
        }
    )

    data: list[EventRead]
    links: list[Link]
    meta: EventFeedMeta
