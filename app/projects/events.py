"""What the projects domain announces: each step of a project's lifecycle.

Every payload starts with the project's ``status`` after the step."""

from dataclasses import dataclass, field
from typing import ClassVar

from app.events.domain import ENVELOPE, INTERNAL, FeedEvent


@dataclass(frozen=True)
class ProjectEvent(FeedEvent):
    resource_type: ClassVar[str] = "improvementProject"
    project_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    status: str

    @property
    def resource_id(self) -> str:
        return str(self.project_id)


@dataclass(frozen=True)
class ProjectCreated(ProjectEvent):
    feed_type: ClassVar[str] = "projectCreated"
    title: str


@dataclass(frozen=True)
class ProjectSubmitted(ProjectEvent):
    feed_type: ClassVar[str] = "projectSubmitted"
    previous_status: str


@dataclass(frozen=True)
class ProjectReviewed(ProjectEvent):
    feed_type: ClassVar[str] = "projectReviewed"
    review_id: int
    decision: str
    total: int
    pass_mark: int


@dataclass(frozen=True)
class TeamMember:
    employee_number: str
    role: str
    staff_id: int = field(metadata=INTERNAL)


@dataclass(frozen=True)
class ProjectApproved(ProjectEvent):
    feed_type: ClassVar[str] = "projectApproved"
    review_id: int
    team: tuple[TeamMember, ...]


@dataclass(frozen=True)
class ProjectReturned(ProjectEvent):
    feed_type: ClassVar[str] = "projectReturned"
    review_id: int


@dataclass(frozen=True)
class ProjectWithdrawn(ProjectEvent):
    feed_type: ClassVar[str] = "projectWithdrawn"
    previous_status: str
