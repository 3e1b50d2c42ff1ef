"""Request bodies read dates as ISO text and booleans as JSON booleans, each checked once."""

from datetime import date

import pytest
from pydantic import ValidationError

from app.core.schemas import ApiInput


class Parent(ApiInput):
    start_date: date
    board_member: bool = False
    count: int = 0


class Child(Parent):
    name: str = ""


@pytest.mark.parametrize("model", [Parent, Child])
def test_a_subclass_checks_inherited_fields_once(model: type[ApiInput]) -> None:
    for field in model.model_fields.values():
        checks = [m for m in field.metadata if type(m).__name__ == "BeforeValidator"]
        assert len(checks) <= 1, field


@pytest.mark.parametrize(
    ("field", "value"),
    [("startDate", 0), ("startDate", "1"), ("boardMember", "yes"), ("count", "1")],
)
def test_a_subclass_still_refuses_what_its_parent_refuses(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Child.model_validate({"startDate": "2026-11-27", field: value})
