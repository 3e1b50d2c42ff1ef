"""The identifiers every domain shares: employee numbers and ODS codes, as the API spells them.

They live here, below the domains, so that a domain naming a person or an organisation does not
import another domain's schemas to do it."""

from typing import Annotated

from pydantic import StringConstraints

EMPLOYEE_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9\-]{0,29}$"
ODS_CODE_PATTERN = r"^[A-Z0-9]{3,10}$"

EmployeeNumber = Annotated[str, StringConstraints(pattern=EMPLOYEE_NUMBER_PATTERN)]
