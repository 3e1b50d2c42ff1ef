"""Base Pydantic models: snake_case in Python, lowerCamelCase on the wire."""

import re
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

# Every string on the wire is bounded: this is the default (free text); names, e-mails and codes
# declare their own, shorter, limits.
FREE_TEXT_MAX_LENGTH = 4000
# The largest integer every JSON client reads exactly (IEEE 754 doubles in JavaScript).
SAFE_INTEGER_MAX = 2**53 - 1
# No response list is longer than a batch of records.
LIST_MAX_ITEMS = 10_000

_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_text(value: Any) -> Any:
    """Dates and times arrive as ISO 8601 / RFC 3339 text. Pydantic alone would also read a
    number, or a numeric string, as a Unix timestamp: ``0`` would be 1970-01-01."""
    if isinstance(value, str) and not _ISO_DATE_START.match(value):
        raise ValueError("Input should be an ISO 8601 date (YYYY-MM-DD) or RFC 3339 date-time")
    if isinstance(value, int | float):
        raise ValueError("Input should be an ISO 8601 date or RFC 3339 date-time, as a string")
    return value


IsoText = BeforeValidator(iso_text)

# A value the client sent, echoed back to name a rejected record: cut short when it is longer
# than any valid one could be (the rejection says what was wrong with it).
ECHO_MAX_LENGTH = 200


def _cut_short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > ECHO_MAX_LENGTH:
        return value[: ECHO_MAX_LENGTH - 1] + "…"
    return value


Echoed = Annotated[str, BeforeValidator(_cut_short), MaxLen(ECHO_MAX_LENGTH)]


def json_boolean(value: Any) -> Any:
    """``true`` or ``false``: Pydantic alone would also take ``"yes"``, ``"0"`` or ``1``."""
    if not isinstance(value, bool) and value is not None:
        raise ValueError("Input should be a JSON boolean (true or false)")
    return value


def json_number(value: Any) -> Any:
    """A JSON number: Pydantic alone would also take ``"12"`` or ``true``."""
    if isinstance(value, str | bool):
        raise ValueError("Input should be a JSON number")
    return value


_JSON_BOOLEAN = BeforeValidator(json_boolean)
_JSON_NUMBER = BeforeValidator(json_number)


def _mentions(annotation: Any, types: tuple[Any, ...]) -> bool:
    if annotation in types:
        return True
    return any(_mentions(argument, types) for argument in get_args(annotation))


class ApiModel(BaseModel):
    """A response body. Built from ORM objects or keyword arguments by Python name."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        from_attributes=True,
        str_max_length=FREE_TEXT_MAX_LENGTH,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if _bound_unbounded_fields(cls):
            cls.model_rebuild(force=True)


def _bound_unbounded_fields(model: type[BaseModel]) -> bool:
    """Every integer and list of a response is bounded, in the document and when it is built:
    integers are counts, ids and versions (0 to ``SAFE_INTEGER_MAX``), and no list is longer
    than a batch (``LIST_MAX_ITEMS``), unless the field declares its own bounds."""
    changed = False
    for field in model.model_fields.values():
        kinds = {type(constraint) for constraint in field.metadata}
        if _is_list(field.annotation):
            if MaxLen not in kinds:
                field.metadata.append(MaxLen(LIST_MAX_ITEMS))
                changed = True
            if field.annotation == list[int]:
                field.annotation = list[Annotated[int, Ge(0), Le(SAFE_INTEGER_MAX)]]
                changed = True
        elif _mentions(field.annotation, (int,)) and not _mentions(field.annotation, (bool,)):
            if not kinds & {Ge, Gt}:
                field.metadata.append(Ge(0))
            if not kinds & {Le, Lt}:
                field.metadata.append(Le(SAFE_INTEGER_MAX))
            changed = True
    return changed


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(_is_list(argument) for argument in get_args(annotation))


class ApiInput(BaseModel):
    """A request body: lowerCamelCase names only, unknown fields are refused, dates and times
    are ISO 8601 text (never numbers), and booleans and numbers are JSON booleans and numbers
    (never ``"yes"`` or ``"1"``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        str_max_length=FREE_TEXT_MAX_LENGTH,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            if _mentions(field.annotation, (date, datetime, AwareDatetime)):
                check = IsoText
            elif _mentions(field.annotation, (bool,)):
                check = _JSON_BOOLEAN
            elif _mentions(field.annotation, (int, float)):
                check = _JSON_NUMBER
            else:
                continue
            # A subclass inherits its fields with their checks: add each only once.
            if check not in field.metadata:
                field.metadata.append(check)
                changed = True
        if changed:
            cls.model_rebuild(force=True)


# Query parameters: the same rule as bodies, for ``date`` and ``AwareDatetime`` parameters.
IsoDate = Annotated[date, IsoText]
IsoDateTime = Annotated[AwareDatetime, IsoText]
