"""GET /staff/{employeeNumber}/personalData: everything held about one person (article 15)."""

import httpx
from sqlalchemy import ForeignKey

from app.models import Base
from tests.conftest import ClientFactory, auth, read_events
from tests.personal_data.conftest import IG_SCOPES, Subject
from tests.security.world import FAMILY_NAME, WORK_EMAIL

# Sections that show a table's rows, for every table that refers to a person. A table added
# with a foreign key to staff_members, or a column holding an employee number or an e-mail,
# fails test_every_table_that_refers_to_a_person_is_exported until it is exported and named.
SECTION_OF_TABLE = {
    "staff_members": "staff",
    "staff_history": "history",
    "completions": "completions",
    "awards": "awards",
    "project_team_members": "projects",
    "project_reviews": "reviewsGiven",
    "staff_snapshot_members": "snapshotMemberships",
    "uptake_person_deltas": "uptakeContributions",
    "personal_data_corrections": "corrections",
    "erasure_requests": "erasureRequests",
    "staff_pseudonymisations": "pseudonymisation",
}
# Tables that name a person by a resource id (employee number, completion or award id).
BY_RESOURCE = {"audit_records": "auditRecords", "events": "events"}


def _refers_to_a_person(table: object) -> bool:
    columns = list(table.columns)  # type: ignore[attr-defined]
    for column in columns:
        if any(
            isinstance(fk, ForeignKey) and fk.target_fullname.startswith("staff_members.")
            for fk in column.foreign_keys
        ):
            return True
        if column.name in {"staff_id", "employee_number"} or "email" in column.name:
            return True
    return False


def test_every_table_that_refers_to_a_person_is_exported() -> None:
    referring = {t.name for t in Base.metadata.sorted_tables if _refers_to_a_person(t)}
    assert referring == set(SECTION_OF_TABLE)


async def test_the_export_holds_a_row_from_every_table_that_refers_to_them(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests",
        json={"legalBasis": "objectionUpheld", "overrideReason": "Objection upheld by the DPO"},
        headers=auth(ig),
    )
    assert erased.status_code == 201, erased.text

    response = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))

    assert response.status_code == 200, response.text
    body = response.json()
    for section in [*SECTION_OF_TABLE.values(), *BY_RESOURCE.values()]:
        assert body[section], f"{section} is empty"
    assert body["purposes"] and "6(1)(e)" in body["lawfulBasis"]
    assert body["retention"]["retentionYears"] == 6
    assert body["staff"][0]["employeeNumber"] == subject.employee_number
    assert {c["channel"] for c in body["completions"]} == {"api"}
    assert any(a["evidence"]["completionIds"] for a in body["awards"])
    assert {p["role"] for p in body["projects"]} == {"lead"}


async def test_the_export_shows_who_corrected_their_name_and_why(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")

    body = (
        await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    ).json()

    corrections = body["corrections"]
    assert [c["fields"] for c in corrections] == [["familyName"], ["familyName"]]
    assert [c["clientId"] for c in corrections] == [subject.world.admin["client_id"]] * 2
    assert corrections[0]["reason"] is None
    assert FAMILY_NAME in corrections[1]["reason"]


async def test_the_export_lists_who_read_their_record(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    reader = await make_client(scopes=["staff:read"], name="a reader")
    await client.get(f"/staff/{subject.employee_number}", headers=auth(reader))

    body = (
        await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    ).json()

    reads = [
        r
        for r in body["auditRecords"]
        if r["action"] == "read" and r["clientId"] == reader["client_id"]
    ]
    assert len(reads) == 1


async def test_the_export_can_be_downloaded_as_a_file(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")

    response = await client.get(
        f"/staff/{subject.employee_number}/personalData",
        params={"download": "true"},
        headers=auth(ig),
    )

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="personal-data-{subject.employee_number}.json"'
    )
    assert response.json()["staff"][0]["workEmail"] == WORK_EMAIL


async def test_an_export_is_audited_and_announced(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=[*IG_SCOPES, "audit:read", "events:read"], name="IG")

    await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))

    audit = await client.get(
        "/auditRecords", params={"resourceType": "personalData"}, headers=auth(ig)
    )
    assert [(r["action"], r["resourceId"]) for r in audit.json()["data"]] == [
        ("export", subject.employee_number)
    ]
    events = await read_events(client, auth(ig), types="personalDataExported")
    assert [e["resourceId"] for e in events["data"]] == [subject.employee_number]


async def test_staff_scopes_alone_do_not_export(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    hr = await make_client(
        scopes=["staff:read", "staff:write", "completions:read", "awards:read", "audit:read"]
    )

    response = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(hr))

    assert response.status_code == 403


async def test_another_organisations_person_is_not_exported(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    elsewhere = await make_client(scopes=IG_SCOPES, organisations=["7A6"])
    own = await make_client(scopes=IG_SCOPES, organisations=["7A4"])

    hidden = await client.get(
        f"/staff/{subject.employee_number}/personalData", headers=auth(elsewhere)
    )
    seen = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(own))

    assert hidden.status_code == 404
    assert FAMILY_NAME not in hidden.text
    assert seen.status_code == 200
