"""A staff record's fields, declared once.

Each field says where it lives (column of ``staff_members``, attribute of the API schemas,
JSON name, CSV header) and what the service does with it (kept with effective dates for uptake,
changed by PATCH, replaced or kept when the person is pseudonymised). The JSON, CSV, PATCH,
history, event, rectification and pseudonymisation paths take their lists from here, and
``StaffRow`` is the typed row the write path carries: adding an attribute is a line here, a
column in the model and its migration, the schema's attribute, and the row's (see
docs/contributing.md).
"""

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, NamedTuple


class PersonalData(Enum):
    """What a field is to the person it describes (UK GDPR), which says what pseudonymisation
    does to it and whether a change of it is a correction of who they are (article 16)."""

    KEY = "key"  # the employee number: only the employer's HR can turn it back into a person
    IDENTIFIES = "identifies"  # names or reaches them: replaced; a change is a correction
    DESCRIBES = "describes"  # about them, needed by no aggregate: cleared
    COUNTED = "counted"  # what the uptake figures are counted by: kept


class CsvValue(Enum):
    """How a CSV cell is read into the value the JSON batch would carry."""

    TEXT = "text"
    UK_DATE = "ukDate"  # 31/12/2026 as well as 2026-12-31
    BOOLEAN = "boolean"  # true/false, yes/no, y/n, 1/0


# A field's value once the person is pseudonymised: this text, or ``PSEUDONYM`` for the
# pseudonym the service gives them ("Person 42"), or None.
PSEUDONYM = "{pseudonym}"


@dataclass(frozen=True)
class StaffField:
    """One attribute of a staff record, everywhere it appears."""

    column: str  # staff_members' column, and StaffRow's attribute
    name: str  # the API schemas' attribute (snake case of ``wire``)
    wire: str  # JSON name
    personal: PersonalData
    csv: CsvValue = CsvValue.TEXT
    csv_required: bool = False  # a staff CSV must have the column
    kept: bool = False  # every record holds one: PATCH may change it, never remove it (null)
    history: bool = False  # kept with effective dates (staff_history): uptake is broken down by it
    patch: bool = True  # PATCH may change it (the key never changes)
    pseudonymised_as: str | None = None  # for IDENTIFIES and DESCRIBES: see PSEUDONYM
    derived: tuple[str, ...] = ()  # columns computed from it, written and cleared with it
    csv_header: str | None = None  # when the CSV column is not named as the JSON field

    @property
    def header(self) -> str:
        """The CSV header: the JSON name unless declared otherwise."""
        return self.csv_header or self.wire

    def pseudonymised(self, pseudonym: str) -> str | None:
        if self.pseudonymised_as is None:
            return None
        return self.pseudonymised_as.format(pseudonym=pseudonym)


FIELDS: tuple[StaffField, ...] = (
    StaffField(
        "employee_number",
        "employee_number",
        "employeeNumber",
        PersonalData.KEY,
        csv_required=True,
        kept=True,
        patch=False,
    ),
    StaffField(
        "given_name",
        "given_name",
        "givenName",
        PersonalData.IDENTIFIES,
        csv_required=True,
        kept=True,
        pseudonymised_as="Pseudonymised",
    ),
    StaffField(
        "family_name",
        "family_name",
        "familyName",
        PersonalData.IDENTIFIES,
        csv_required=True,
        kept=True,
        pseudonymised_as=PSEUDONYM,
    ),
    StaffField(
        "work_email",
        "work_email",
        "workEmail",
        PersonalData.IDENTIFIES,
        derived=("work_email_key", "work_email_sha1"),
    ),
    # Required in a record, but a batch may give it for all its records: not a required column.
    StaffField(
        "organisation_ods_code",
        "organisation",
        "organisation",
        PersonalData.COUNTED,
        kept=True,
        history=True,
    ),
    StaffField(
        "staff_group_code",
        "staff_group",
        "staffGroup",
        PersonalData.COUNTED,
        csv_required=True,
        kept=True,
        history=True,
    ),
    StaffField("job_title", "job_title", "jobTitle", PersonalData.DESCRIBES),
    StaffField(
        "board_member",
        "board_member",
        "boardMember",
        PersonalData.COUNTED,
        csv=CsvValue.BOOLEAN,
        history=True,
    ),
    StaffField(
        "start_date",
        "start_date",
        "startDate",
        PersonalData.COUNTED,
        csv=CsvValue.UK_DATE,
        csv_required=True,
        kept=True,
    ),
    StaffField("end_date", "end_date", "endDate", PersonalData.COUNTED, csv=CsvValue.UK_DATE),
)

# What HR may change (a change to any of them is a change to the record), in StaffRow's order.
HR_FIELDS = tuple(f for f in FIELDS if f.patch)
HR_COLUMNS = tuple(f.column for f in HR_FIELDS)
# The columns uptake is broken down by, kept with effective dates.
HISTORY_COLUMNS = tuple(f.column for f in FIELDS if f.history)
# JSON name by column, for the fields named in events (staffUpdated's ``changed``).
WIRE_NAMES = {f.column: f.wire for f in FIELDS}
# The fields whose change corrects who the person is: the rectification trail.
IDENTITY_FIELDS = tuple(f for f in FIELDS if f.personal is PersonalData.IDENTIFIES)


class StaffRow(NamedTuple):
    """A checked staff record in staff_members' columns: what the write path carries from
    the request to the repository (the key, then ``HR_FIELDS`` in order)."""

    employee_number: str
    given_name: str
    family_name: str
    work_email: str | None
    organisation_ods_code: str
    staff_group_code: str
    job_title: str | None
    board_member: bool
    start_date: date
    end_date: date | None

    @property
    def work_email_key(self) -> str | None:
        """The e-mail lower-cased: e-mails compare case-insensitively (completion matching)."""
        return self.work_email.casefold() if self.work_email else None

    def hr_values(self) -> tuple[Any, ...]:
        """The values of ``HR_FIELDS``, in order."""
        return self[1:]


if StaffRow._fields != tuple(f.column for f in FIELDS):  # pragma: no cover - a declaration slip
    raise TypeError("StaffRow's attributes must be the columns of FIELDS, in order.")
