"""What the organisations domain announces: an organisation created or changed."""

from dataclasses import dataclass, field
from typing import ClassVar

from app.events.domain import ENVELOPE, FeedEvent


@dataclass(frozen=True)
class OrganisationChanged(FeedEvent):
    """``changed``: the wire names of the fields set (all of them when ``created``)."""

    feed_type: ClassVar[str] = "organisationChanged"
    resource_type: ClassVar[str] = "organisation"
    organisation: str | None = field(metadata=ENVELOPE)  # its own ODS code
    created: bool
    changed: tuple[str, ...]

    @property
    def resource_id(self) -> str:
        assert self.organisation is not None
        return self.organisation
