"""Subject access, erasure on request, and the rectification trail of staff records."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import today, utcnow
from app.core.problems import Conflict, NotFound
from app.core.settings import Settings
from app.events.bus import publish
from app.models import ErasureRequest, StaffMember
from app.personal_data import repository
from app.personal_data.events import ErasureRequested, PersonalDataExported
from app.personal_data.pseudonymisation import Origin, pseudonymise
from app.personal_data.schemas import ErasureRequestIn

CONTROLLER = "The NHS Wales organisation that employs (or employed) the person, for IQT."
PURPOSES = [
    "Record the Improving Quality Together (IQT) training staff complete and the improvement "
    "projects they take part in.",
    "Decide and record IQT awards (Bronze, Silver, Gold) by the published rules, with evidence.",
    "Report uptake of IQT by organisation, staff group and board, as aggregates only.",
    "Tell the employer's HR and e-learning systems of awards and completions (event feed).",
]
LAWFUL_BASIS = (
    "UK GDPR article 6(1)(e): a task carried out in the public interest (the NHS body's "
    "functions of workforce development and quality improvement). No special category data."
)
RECIPIENTS = [
    "The employing organisation's HR, e-learning and QI systems, within their organisation.",
    "Information governance, for subject access and erasure.",
    "Dashboards receive aggregates only, with statistical disclosure control.",
]


@dataclass(frozen=True)
class Export:
    employee_number: str
    generated_at: datetime
    retention: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]


def _retention(member: StaffMember, years: int, pseudonymised_at: Any) -> dict[str, Any]:
    due = None
    if member.end_date is not None:
        due = _after_years(member.end_date, years)
    return {
        "retention_years": years,
        "end_date": member.end_date,
        "pseudonymise_on": due,
        "pseudonymised_at": pseudonymised_at,
        "rule": f"Names, e-mail and free text naming the person are pseudonymised {years} years "
        "after their end date (NHS Records Management Code of Practice 2021, staff training "
        "records); organisation, staff group, dates, completions and awards are kept for "
        "uptake figures.",
    }


def _after_years(day: date, years: int) -> date:
    """The first day after ``years`` years from ``day`` have passed (retention_cutoff's inverse)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, month=3, day=1)


async def export_personal_data(
    session: AsyncSession, caller: Caller, settings: Settings, employee_number: str
) -> Export:
    """Everything held about one person; audited and announced (personalDataExported)."""
    member = await repository.person(session, employee_number)
    visible = member is not None and caller.may_access(member.organisation_ods_code)
    caller.note_audit(
        "export",
        "personalData",
        employee_number,
        member.organisation_ods_code if member is not None and visible else None,
    )
    if member is None or not visible:
        raise NotFound(f"No staff member {employee_number}.")
    footprint = await repository.footprint(session, member)
    sections = await repository.export_sections(session, footprint)
    pseudonymised = sections["pseudonymisation"]
    await publish(
        session,
        [PersonalDataExported(member.organisation_ods_code, employee_number)],
        caller=caller,
    )
    return Export(
        employee_number=employee_number,
        generated_at=utcnow(),
        retention=_retention(
            member,
            settings.personal_data_retention_years,
            pseudonymised[0]["pseudonymisedAt"] if pseudonymised else None,
        ),
        sections=sections,
    )


@dataclass(frozen=True)
class ErasureOutcome:
    request: ErasureRequest
    current_employee: bool
    pseudonymised: bool


async def request_erasure(
    session: AsyncSession, caller: Caller, employee_number: str, body: ErasureRequestIn
) -> ErasureOutcome:
    """Records an erasure request and pseudonymises the person at once; a current employee
    only with an override reason (409 otherwise)."""
    member = await repository.person(session, employee_number, lock=True)
    visible = member is not None and caller.may_access(member.organisation_ods_code)
    caller.note_audit(
        "erase",
        "personalData",
        employee_number,
        member.organisation_ods_code if member is not None and visible else None,
    )
    if member is None or not visible:
        raise NotFound(f"No staff member {employee_number}.")
    on = today()
    current = member.end_date is None or member.end_date >= on
    if current and body.override_reason is None:
        raise Conflict(
            f"Staff member {employee_number} is a current employee: their training record is "
            "still needed for the IQT programme. Erase them after they leave, or send "
            "overrideReason saying why it cannot wait.",
            invalid_params=[("overrideReason", "Required to erase a current employee.")],
        )
    request = ErasureRequest(
        staff_id=member.id,
        requested_at=utcnow(),
        client_id=caller.client_id,
        request_id=caller.request_id,
        legal_basis=body.legal_basis,
        note=body.note,
        override_reason=body.override_reason,
    )
    session.add(request)
    await session.flush()
    requested = ErasureRequested(
        member.organisation_ods_code, employee_number, body.legal_basis, current
    )
    await publish(session, [requested], caller=caller)
    done = await pseudonymise(
        session, member, Origin("erasure", caller, erasure_request_id=request.id)
    )
    await session.refresh(request)
    return ErasureOutcome(request, current, done)
