"""What the credentials domain announces: an award issued as a credential, or revoked with it."""

from dataclasses import dataclass, field
from typing import ClassVar

from app.events.domain import ENVELOPE, FeedEvent


@dataclass(frozen=True)
class CredentialEvent(FeedEvent):
    resource_type: ClassVar[str] = "award"
    award_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    employee_number: str
    level: str

    @property
    def resource_id(self) -> str:
        return str(self.award_id)


@dataclass(frozen=True)
class CredentialIssued(CredentialEvent):
    feed_type: ClassVar[str] = "credentialIssued"
    credential_id: str


@dataclass(frozen=True)
class CredentialRevoked(CredentialEvent):
    feed_type: ClassVar[str] = "credentialRevoked"
    credential_id: str
    reason: str
