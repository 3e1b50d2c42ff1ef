"""Work e-mail addresses, checked by email-validator with the costly domain check cached.

Checking a domain (IDNA, label rules) is most of email-validator's cost and a staff file has
a handful of domains for 100,000 addresses, so each domain is checked once per process.
"""

from functools import lru_cache
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_local_part
from pydantic import AfterValidator, StringConstraints, WithJsonSchema


@lru_cache(maxsize=1024)
def _normalised_domain(domain: str) -> str:
    return validate_email(f"postmaster@{domain}", check_deliverability=False).domain


def normalise_work_email(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        raise ValueError("value is not a valid email address: it needs exactly one @")
    try:
        validate_email_local_part(local, allow_smtputf8=True)
        return f"{local}@{_normalised_domain(domain)}"
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None


WorkEmail = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(normalise_work_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
