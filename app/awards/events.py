"""What the awards domain announces: awards granted, revoked, dated again.

``staff_id`` (the holder) is for the handlers in the same transaction (the uptake figures'
note of who changed), not for the feed."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from app.events.domain import ENVELOPE, INTERNAL, OMITTED_WHEN_NONE, FeedEvent


@dataclass(frozen=True)
class AwardEvidence:
    """What an award was granted on: completions, projects, or a legacy record's reference."""

    completion_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    legacy_reference: str | None = None

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> "AwardEvidence":
        """From an award's stored ``evidence`` document."""
        return cls(
            tuple(document.get("completionIds", ())),
            tuple(document.get("projectIds", ())),
            document.get("legacyReference"),
        )


@dataclass(frozen=True)
class AwardEvent(FeedEvent):
    resource_type: ClassVar[str] = "award"
    award_id: int = field(metadata=ENVELOPE)
    organisation: str | None = field(metadata=ENVELOPE)
    staff_id: int = field(metadata=INTERNAL)
    employee_number: str
    level: str

    @property
    def resource_id(self) -> str:
        return str(self.award_id)


@dataclass(frozen=True)
class AwardGranted(AwardEvent):
    feed_type: ClassVar[str] = "awardGranted"
    attained_at: datetime
    granted_at: datetime
    rules_version: int | None
    evidence: AwardEvidence


@dataclass(frozen=True)
class AwardRevoked(AwardEvent):
    """``cause``: evidence retracted, level below revoked, administrator; ``cascaded_from``:
    the award whose revocation revoked this one, when it was revoked with it."""

    feed_type: ClassVar[str] = "awardRevoked"
    reason: str
    cause: str
    cascaded_from: int | None = field(default=None, metadata=OMITTED_WHEN_NONE)


@dataclass(frozen=True)
class AwardRedated(AwardEvent):
    feed_type: ClassVar[str] = "awardRedated"
    attained_at: datetime
    previous_attained_at: datetime
    cause: str
    evidence: AwardEvidence
