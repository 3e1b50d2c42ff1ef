"""What the personal-data domain announces: exports, erasure requests, pseudonymisations."""

from dataclasses import dataclass, field
from typing import ClassVar

from app.events.domain import ENVELOPE, FeedEvent


@dataclass(frozen=True)
class PersonalDataEvent(FeedEvent):
    resource_type: ClassVar[str] = "staff"
    organisation: str | None = field(metadata=ENVELOPE)
    employee_number: str

    @property
    def resource_id(self) -> str:
        return self.employee_number


@dataclass(frozen=True)
class PersonalDataExported(PersonalDataEvent):
    feed_type: ClassVar[str] = "personalDataExported"


@dataclass(frozen=True)
class ErasureRequested(PersonalDataEvent):
    feed_type: ClassVar[str] = "erasureRequested"
    legal_basis: str
    current_employee: bool


@dataclass(frozen=True)
class StaffPseudonymised(PersonalDataEvent):
    feed_type: ClassVar[str] = "staffPseudonymised"
    cause: str
