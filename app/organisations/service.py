"""Organisations: NHS bodies identified by ODS code."""

import csv
from dataclasses import dataclass
from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problems import NotFound, PreconditionFailed, ValidationFailed
from app.events.bus import publish
from app.models import Organisation
from app.organisations import repository
from app.organisations.events import OrganisationChanged
from app.organisations.schemas import OrganisationPut, OrganisationType

_FIELDS = ("name", "type", "parent_ods_code", "active")


@dataclass(frozen=True)
class PutResult:
    organisation: Organisation
    created: bool


async def get_organisation(session: AsyncSession, caller: Caller, ods_code: str) -> Organisation:
    organisation = await repository.get_by_ods_code(session, ods_code)
    if organisation is None or not caller.may_access(ods_code):
        raise NotFound(f"No organisation {ods_code}.")
    return organisation


async def list_organisations(
    session: AsyncSession, caller: Caller, page: PageRequest, **filters: object
) -> PageResult[Organisation]:
    return await repository.list_organisations(
        session,
        page,
        visible_to=caller.organisations,
        **filters,  # type: ignore[arg-type]
    )


async def put_organisation(
    session: AsyncSession,
    caller: Caller | None,
    ods_code: str,
    data: OrganisationPut,
    if_match: str | None = None,
) -> PutResult:
    """Creates or replaces an organisation; a PUT that changes nothing writes nothing."""
    if caller is not None and not caller.may_access(ods_code):
        raise NotFound(f"No organisation {ods_code}.")
    if data.parent_ods_code is not None:
        if data.parent_ods_code == ods_code:
            raise ValidationFailed(
                "An organisation cannot be its own parent.",
                invalid_params=[("parentOdsCode", "Must differ from the organisation's code.")],
            )
        if await repository.get_by_ods_code(session, data.parent_ods_code) is None:
            raise ValidationFailed(
                f"Unknown parent organisation {data.parent_ods_code}.",
                invalid_params=[("parentOdsCode", "No such organisation.")],
            )
    values = {
        "name": data.name,
        "type": str(data.type),
        "parent_ods_code": data.parent_ods_code,
        "active": data.active,
    }
    # Locked until the request commits, so that concurrent PUTs of one organisation queue and
    # each checks If-Match against what the one before it wrote.
    existing = await repository.get_by_ods_code(session, ods_code, for_update=True)
    if existing is None and if_match is None:
        organisation = Organisation(ods_code=ods_code, version=1, **values)
        existing = await repository.add_unless_exists(session, organisation)
        if existing is None:
            if caller is not None:
                caller.note_audit("create", "organisation", ods_code, ods_code)
            every_field = tuple(_camel(f) for f in _FIELDS)
            created = OrganisationChanged(ods_code, True, every_field)
            await publish(session, [created], caller=caller)
            return PutResult(organisation, created=True)
        # A concurrent request created it first: this PUT replaces what that one stored.
    if caller is not None:
        caller.note_audit("update" if existing else "create", "organisation", ods_code, ods_code)
    if existing is None:
        raise PreconditionFailed(
            f"If-Match {if_match} was sent, but there is no organisation {ods_code}."
        )

    check_if_match(if_match, existing.version)
    changed = [f for f in _FIELDS if getattr(existing, f) != values[f]]
    if changed:
        for field in changed:
            setattr(existing, field, values[field])
        existing.version += 1
        await session.flush()
        wire_names = tuple(_camel(f) for f in changed)
        await publish(session, [OrganisationChanged(ods_code, False, wire_names)], caller=caller)
    return PutResult(existing, created=False)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


async def load_reference_organisations(session: AsyncSession) -> int:
    """Creates or updates the NHS Wales organisations shipped with the service."""
    text = (
        resources.files("app.reference")
        .joinpath("nhs-wales-organisations.csv")
        .read_text(encoding="utf-8")
    )
    count = 0
    for row in csv.DictReader(text.splitlines()):
        await put_organisation(
            session,
            None,
            row["odsCode"],
            OrganisationPut.model_validate(
                {"name": row["name"], "type": OrganisationType(row["type"]), "active": True}
            ),
        )
        count += 1
    return count
