"""Path parameters naming a staff member, shared by every route under /staff/{employeeNumber}."""

from typing import Annotated

from fastapi import Path

from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN

EmployeeNumberPath = Annotated[
    str,
    Path(
        alias="employeeNumber",
        pattern=EMPLOYEE_NUMBER_PATTERN,
        description="HR employee number.",
        examples=["10293847"],
    ),
]
