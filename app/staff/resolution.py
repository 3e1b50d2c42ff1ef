"""Who a person reference names, as seen by the client that sent it.

Every reference a client sends to a person — an employee number, a work e-mail, an xAPI actor,
a project's team member or reviewer, a legacy award's holder, a batch record — is resolved by
``resolve_people``. For a client restricted to some organisations only staff of those
organisations exist: anyone else is "not found", exactly as a person the service has never
heard of, so no answer can tell a restricted client that an identifier is used elsewhere.
Cross-organisation references (a mentor from another health board) go through an
unrestricted client.

An e-mail names the staff who have it and had not left by the day of what the reference is
about (a completion's day), when it has one: a leaver's address may have been given on.

Set-based: one statement per kind of identifier for the whole list, never one per reference.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import BuiltOnce, column_in, execute_columns, in_parameter
from app.models import StaffMember

# The organisations a client sees people in: None for every organisation.
Within = frozenset[str] | None

NOT_FOUND = "No staff member has this employee number or work e-mail yet."
AMBIGUOUS_EMAIL = "More than one staff member has this work e-mail; send the employee number."
AMBIGUOUS_SHA1 = "More than one staff member has this mbox_sha1sum; send the employee number."


class PersonReference(NamedTuple):
    """What a client sent to name a person: the employee number wins; else the work e-mail
    (lower-cased key); else the SHA-1 of its ``mailto:`` IRI (an xAPI ``mbox_sha1sum``)."""

    employee_number: str | None
    work_email_key: str | None = None
    email_sha1: str | None = None
    # The day the reference is about (a completion's); e-mails of those who left before it
    # do not name them.
    on: date | None = None


@dataclass(frozen=True)
class Person:
    staff_id: int
    employee_number: str
    organisation: str


# The person a reference names, or None and why not.
Resolution = tuple[Person | None, str]


async def resolve_people(
    session: AsyncSession, within: Within, references: Sequence[PersonReference]
) -> list[Resolution]:
    """The person each reference names among the staff of ``within`` (every organisation
    when None); a reference that names nobody there, or more than one by e-mail, is None with
    the reason. The reasons never depend on staff outside ``within``."""
    if within is not None and not within:
        return [(None, NOT_FOUND)] * len(references)
    numbers = {r.employee_number for r in references if r.employee_number}
    by_number: dict[str, Person] = {}
    if numbers:
        parameters: dict[str, Any] = {"numbers": sorted(numbers)}
        if within is not None:
            parameters["within"] = sorted(within)
        statement = (_BY_NUMBER if within is None else _BY_NUMBER_WITHIN)(session)
        found = await execute_columns(session, statement, parameters)
        by_number = {number: Person(i, number, org) for i, number, org in found}
    rest = [r for r in references if r.employee_number not in by_number]
    keys = {r.work_email_key for r in rest if r.work_email_key}
    by_key = await _owners(session, within, StaffMember.work_email_key, keys) if keys else {}
    sha1s = {r.email_sha1 for r in rest if r.email_sha1 and not r.work_email_key}
    by_sha1 = await _owners(session, within, StaffMember.work_email_sha1, sha1s) if sha1s else {}

    resolutions: list[Resolution] = []
    for reference in references:
        if reference.employee_number in by_number:
            resolutions.append((by_number[reference.employee_number], ""))
        elif owners := _employed_on(by_key.get(reference.work_email_key or ""), reference.on):
            resolutions.append(_unique(owners, AMBIGUOUS_EMAIL))
        elif not reference.work_email_key and (
            owners := _employed_on(by_sha1.get(reference.email_sha1 or ""), reference.on)
        ):
            resolutions.append(_unique(owners, AMBIGUOUS_SHA1))
        else:
            resolutions.append((None, NOT_FOUND))
    return resolutions


async def people_by_employee_number(
    session: AsyncSession, within: Within, employee_numbers: Iterable[str]
) -> dict[str, Person]:
    """``resolve_people`` for references by employee number only: the people found."""
    numbers = sorted(set(employee_numbers))
    resolved = await resolve_people(session, within, [PersonReference(n) for n in numbers])
    return {n: person for n, (person, _) in zip(numbers, resolved, strict=True) if person}


def within_text(within: Within) -> str | None:
    """``within`` as stored with what a client sent (completions.sender_organisations):
    None for every organisation, else the ODS codes sorted and separated by spaces."""
    return None if within is None else " ".join(sorted(within))


def within_of(text: str | None) -> Within:
    return None if text is None else frozenset(text.split())


def _by_number(dialect: str, *, scoped: bool) -> Any:
    query = select(
        StaffMember.id, StaffMember.employee_number, StaffMember.organisation_ods_code
    ).where(in_parameter(dialect, StaffMember.employee_number, "numbers"))
    if scoped:
        query = query.where(in_parameter(dialect, StaffMember.organisation_ods_code, "within"))
    return query


_BY_NUMBER = BuiltOnce(lambda dialect: _by_number(dialect, scoped=False))
_BY_NUMBER_WITHIN = BuiltOnce(lambda dialect: _by_number(dialect, scoped=True))


def day_of(moment: datetime) -> date:
    """The UTC day of a moment (one stored without a zone is UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


# Who has an identifier, with the day each left (None: still employed).
Owners = list[tuple[Person, date | None]]


def _employed_on(owners: Owners | None, day: date | None) -> list[Person]:
    """The owners who had not left by ``day`` (all of them when there is no day)."""
    return [person for person, left in owners or [] if day is None or left is None or left >= day]


def _unique(owners: list[Person], ambiguous: str) -> Resolution:
    return (owners[0], "") if len(owners) == 1 else (None, ambiguous)


async def _owners(
    session: AsyncSession, within: Within, key: Any, values: set[str]
) -> dict[str, Owners]:
    """Key value → the staff of ``within`` who have it, with their end dates."""
    query = select(
        key,
        StaffMember.id,
        StaffMember.employee_number,
        StaffMember.organisation_ods_code,
        StaffMember.end_date,
    ).where(column_in(session, key, sorted(values)))
    if within is not None:
        query = query.where(column_in(session, StaffMember.organisation_ods_code, sorted(within)))
    found: dict[str, Owners] = {}
    for value, i, n, org, left in await execute_columns(session, query.order_by(StaffMember.id)):
        found.setdefault(value, []).append((Person(i, n, org), left))
    return found
