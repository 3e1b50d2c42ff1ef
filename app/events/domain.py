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
from collections.abc import Callable, Mapping, Sequence
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
    for name, key, omitted_when_none in _payload_fields(type(event)):
        value = getattr(event, name)
        if value is None and omitted_when_none:
            continue
        data[key] = _json(value)
    return data


def _payload_fields(event_type: type) -> tuple[tuple[str, str, bool], ...]:
    """Each payload field of a dataclass, worked out once per class: (attribute, key, omitted
    when None). Reading the fields' metadata and naming them for every event showed in
    profiles of the busiest write (two events for every completion that grants an award)."""
    fields = _PAYLOAD_FIELDS.get(event_type)
    if fields is None:
        fields = _PAYLOAD_FIELDS[event_type] = tuple(
            (field.name, _camel(field.name), field.metadata.get(_ROLE) == _OMITTED_WHEN_NONE)
            for field in dataclasses.fields(event_type)
            if field.metadata.get(_ROLE) not in (_ENVELOPE, _INTERNAL)
        )
    return fields


_PAYLOAD_FIELDS: dict[type, tuple[tuple[str, str, bool], ...]] = {}
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # exactly: an enum member deriving from str is sent by value
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


def _converter(kind: type) -> Callable[[Any], Any]:
    """How a value of this type reads on the feed, worked out once per type (as the fields
    of a class are): the type tests, made for every value, showed in profiles of the batch
    that grants 10,000 awards."""
    if dataclasses.is_dataclass(kind):
        return payload
    if issubclass(kind, enum.Enum):
        return _enum_value
    if issubclass(kind, date):  # datetimes too
        return _isoformat
    if issubclass(kind, tuple | list):
        return _items
    return _unchanged


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _isoformat(value: date) -> str:
    return value.isoformat()


def _items(value: Sequence[Any]) -> list[Any]:
    return [_json(item) for item in value]


def _unchanged(value: Any) -> Any:
    return value


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
