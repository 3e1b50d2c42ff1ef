"""Base Pydantic models: snake_case in Python, lowerCamelCase on the wire."""

import re
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

# Every string on the wire is bounded: this is the default (free text); names, e-mails and codes
# declare their own, shorter, limits.
FREE_TEXT_MAX_LENGTH = 4000
# The largest integer every JSON client reads exactly (IEEE 754 doubles in JavaScript).
SAFE_INTEGER_MAX = 2**53 - 1
# No response list is longer than a batch of records.
LIST_MAX_ITEMS = 10_000

# A character that is not whitespace, spelt out for patterns the document publishes: `\S` means
# "not Unicode White_Space" to the service's regex engine, but to JSON Schema's (ECMA-262) it
# also matches U+0085 (NEL) and not U+FEFF, so a client checking the document would disagree
# with the service. This class is the service's `\S` in every dialect.
NOT_SPACE = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_text(value: Any) -> Any:
    """Dates and times arrive as ISO 8601 / RFC 3339 text. Pydantic alone would also read a
    number, or a numeric string, as a Unix timestamp: ``0`` would be 1970-01-01."""
    if isinstance(value, str):
        if not _ISO_DATE_START.match(value):
            raise ValueError("Input should be an ISO 8601 date (YYYY-MM-DD) or RFC 3339 date-time")
        return value
    if isinstance(value, int | float):
        raise ValueError("Input should be an ISO 8601 date or RFC 3339 date-time, as a string")
    return value


IsoText = BeforeValidator(iso_text)

# Dates that enter the service lie in this range: nothing in the NHS happened before it began,
# and a date after LATEST_DATE is a typing error (it would also overflow date arithmetic near
# year 9999). Dates of what has happened (completedAt, grantedAt, xAPI timestamps) are also
# not after now plus IQT_CLOCK_SKEW_SECONDS (app.core.clock.clock_skew).
EARLIEST_DATE = date(1948, 7, 5)  # the NHS began
LATEST_DATE = date(2099, 12, 31)


def plausible_date(value: Any) -> Any:
    """A date or date-time within ``EARLIEST_DATE`` .. ``LATEST_DATE`` (by its own calendar day:
    converting year 1 or 9999 to UTC could overflow)."""
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date):
        if day < EARLIEST_DATE:
            raise ValueError(f"Must be on or after {EARLIEST_DATE.isoformat()} (the NHS began)")
        if day > LATEST_DATE:
            raise ValueError(f"Must be on or before {LATEST_DATE.isoformat()}")
    return value


def text_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The path to the first text in ``value`` (or in the lists and objects it holds) with a
    NUL character or an unpaired surrogate, which no database column stores, and the reason;
    None when there is none."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, "Must not contain NUL (U+0000) characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "Must not contain unpaired surrogates (U+D800 to U+DFFF)"
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = text_problem(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            found = text_problem(key, name) or text_problem(item, name)
            if found:
                return found
    return None


def plain_text(value: Any) -> Any:
    """Refuses text that ``text_problem`` finds: here, naming the field, not in the database."""
    if isinstance(value, str) and value.isascii() and "\x00" not in value:
        return value  # most text, told apart at once: ASCII holds no surrogate
    found = text_problem(value)
    if found is not None:
        raise ValueError(found[1])
    return value


PlausibleDate = AfterValidator(plausible_date)
PlainText = AfterValidator(plain_text)
# A text parameter (query, form): the same checks as text in bodies.
Text = Annotated[str, PlainText]

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


def _holds_text(annotation: Any) -> bool:
    """A string, or an optional string or list of strings: not the free-form objects (``dict``,
    ``Any``) a batch envelope holds before its records are checked one by one."""
    if annotation is str:
        return True
    if get_origin(annotation) is dict:
        return False
    return any(_holds_text(argument) for argument in get_args(annotation))


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(_is_list(argument) for argument in get_args(annotation))


class ApiInput(BaseModel):
    """A request body: lowerCamelCase names only, unknown fields are refused, dates and times
    are ISO 8601 text (never numbers) within the plausible range, booleans and numbers are JSON
    booleans and numbers (never ``"yes"`` or ``"1"``), and text holds no NUL or unpaired
    surrogate."""

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
            checks: list[Any] = []
            if _mentions(field.annotation, (date, datetime, AwareDatetime)):
                checks += [IsoText, PlausibleDate]
            elif _mentions(field.annotation, (bool,)):
                checks.append(_JSON_BOOLEAN)
            elif _mentions(field.annotation, (int, float)):
                checks.append(_JSON_NUMBER)
            if _holds_text(field.annotation):
                checks.append(PlainText)
            # A subclass inherits its fields with their checks: add each only once.
            for check in checks:
                if check not in field.metadata:
                    field.metadata.append(check)
                    changed = True
        if changed:
            cls.model_rebuild(force=True)


# Query parameters: the same rule as bodies, for ``date`` and ``AwareDatetime`` parameters.
IsoDate = Annotated[date, IsoText, PlausibleDate]
IsoDateTime = Annotated[AwareDatetime, IsoText, PlausibleDate]
