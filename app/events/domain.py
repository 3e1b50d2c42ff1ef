"""What a domain announces: typed, immutable events, and how a feed event reads on the feed.

Each domain declares its events in its own ``events.py`` as frozen dataclasses deriving from
``DomainEvent`` (said to the handlers in the same transaction, ``app/events/bus.py``) or from
``FeedEvent`` (also written to the event feed other systems follow). A feed event's payload is
its fields in declared order, named in lowerCamelCase, except those whose metadata is
``ENVELOPE`` (the row's resource id and organisation) or ``INTERNAL`` (for handlers only, such
as a staff id); a field marked ``OMITTED_WHEN_NONE`` is left out rather than sent as null.
"""

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, ClassVar

_ROLE = "feed"
_ENVELOPE, _INTERNAL, _OMITTED_WHEN_NONE = "envelope", "internal", "omittedWhenNone"


class DomainEvent:
    """Something that happened in a domain; subclasses are frozen dataclasses."""


class FeedEvent(DomainEvent):
    """A domain event other systems follow on the feed.

    Subclasses set ``feed_type`` and ``resource_type``, declare the ``organisation`` field
    (``ENVELOPE``) and give ``resource_id``: the feed row's envelope."""

    feed_type: ClassVar[str]
    resource_type: ClassVar[str]
    organisation: str | None

    @property
    def resource_id(self) -> str:
        raise NotImplementedError


# Field metadata: ``field(metadata=ENVELOPE)`` and the like.
ENVELOPE: Mapping[str, str] = MappingProxyType({_ROLE: _ENVELOPE})
INTERNAL: Mapping[str, str] = MappingProxyType({_ROLE: _INTERNAL})
OMITTED_WHEN_NONE: Mapping[str, str] = MappingProxyType({_ROLE: _OMITTED_WHEN_NONE})


def payload(event: object) -> dict[str, Any]:
    """The feed payload of an event, or of a dataclass nested in one."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(event):  # type: ignore[arg-type]
        role = field.metadata.get(_ROLE)
        if role in (_ENVELOPE, _INTERNAL):
            continue
        value = getattr(event, field.name)
        if value is None and role == _OMITTED_WHEN_NONE:
            continue
        data[_camel(field.name)] = _json(value)
    return data


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return payload(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
