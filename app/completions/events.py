"""What the completions domain announces: completions recorded, matched later, retracted.

``staff_id`` (the person a completion counts for, if matched) is for the handlers in the same
transaction (award evaluation), not for the feed."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from app.events.domain import ENVELOPE, INTERNAL, FeedEvent


@dataclass(frozen=True)
class CompletionRecorded(FeedEvent):
    feed_type: ClassVar[str] = "completionRecorded"
    resource_type: ClassVar[str] = "completion"
    completion_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    staff_id: int | None = field(metadata=INTERNAL)
    course_code: str
    completed_at: datetime
    passed: bool | None
    score_scaled: float | None
    match_status: str
    employee_number: str | None

    @property
    def resource_id(self) -> str:
        return str(self.completion_id)


@dataclass(frozen=True)
class CompletionMatched(FeedEvent):
    """A completion kept as unmatched is now a known person's."""

    feed_type: ClassVar[str] = "completionMatched"
    resource_type: ClassVar[str] = "completion"
    completion_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    staff_id: int | None = field(metadata=INTERNAL)
    employee_number: str
    course_code: str

    @property
    def resource_id(self) -> str:
        return str(self.completion_id)


@dataclass(frozen=True)
class CompletionRetracted(FeedEvent):
    feed_type: ClassVar[str] = "completionRetracted"
    resource_type: ClassVar[str] = "completion"
    completion_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    staff_id: int | None = field(metadata=INTERNAL)
    course_code: str
    employee_number: str | None
    reason: str

    @property
    def resource_id(self) -> str:
        return str(self.completion_id)
