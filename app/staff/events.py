"""What the staff domain announces: records created, changed, end-dated, identities known,
placements changed."""

from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, NamedTuple

from app.events.domain import ENVELOPE, OMITTED_WHEN_NONE, DomainEvent, FeedEvent


@dataclass(frozen=True)
class StaffCreated(FeedEvent):
    feed_type: ClassVar[str] = "staffCreated"
    resource_type: ClassVar[str] = "staff"
    organisation: str | None = field(metadata=ENVELOPE)
    employee_number: str

    @property
    def resource_id(self) -> str:
        return self.employee_number


@dataclass(frozen=True)
class StaffUpdated(FeedEvent):
    """``changed``: the wire names of the fields that changed (a new end date is
    ``StaffEndDated``; a cleared one is named here)."""

    feed_type: ClassVar[str] = "staffUpdated"
    resource_type: ClassVar[str] = "staff"
    organisation: str | None = field(metadata=ENVELOPE)
    employee_number: str = field(metadata=ENVELOPE)
    changed: tuple[str, ...]

    @property
    def resource_id(self) -> str:
        return self.employee_number


@dataclass(frozen=True)
class StaffEndDated(FeedEvent):
    """``reason`` is set when the end date came from a full snapshot the person was absent from."""

    feed_type: ClassVar[str] = "staffEndDated"
    resource_type: ClassVar[str] = "staff"
    organisation: str | None = field(metadata=ENVELOPE)
    employee_number: str = field(metadata=ENVELOPE)
    end_date: date
    reason: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    @property
    def resource_id(self) -> str:
        return self.employee_number


@dataclass(frozen=True)
class StaffIdentified(DomainEvent):
    """A person became known, changed work e-mail, or was end-dated: completions kept as
    unmatched may now be theirs (not on the feed)."""

    staff_id: int
    employee_number: str
    work_email_key: str | None
    # The work e-mail the person had before this change: completions held back because others
    # shared it may now have a single owner.
    previous_work_email_key: str | None = None


class Placement(NamedTuple):
    """Where a person is counted and from when until when, as a new record placed them: their
    dated history is one open period in this place from the start date. A tuple: a batch
    makes one for each person it creates."""

    start_date: date
    end_date: date | None
    organisation: str
    staff_group: str
    board_member: bool


@dataclass(frozen=True)
class StaffPlacementChanged(DomainEvent):
    """A person was created, or where they are counted (their dated history fields) or from
    when until when (start or end date) changed: figures that count people by place and
    period must look at them again (not on the feed). A person just created comes with their
    ``first_placement``, so that a listener need not read them back."""

    staff_id: int
    first_placement: Placement | None = None
