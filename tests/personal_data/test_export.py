"""GET /staff/{employeeNumber}/personalData: everything held about one person (article 15)."""

import base64
import json

import httpx
from sqlalchemy import JSON, LargeBinary, Table

from app.models import Base
from tests.completions.xapi_examples import send
from tests.conftest import CatchUp, ClientFactory, auth, read_events
from tests.personal_data.conftest import (
    ATTEMPTED_BY_ACCOUNT,
    COMPLETED_BY_MBOX,
    DOCUMENT_OF_THEIRS,
    EXPERIENCED_BY_SHA1,
    IG_SCOPES,
    Subject,
)
from tests.security.world import FAMILY_NAME, GIVEN_NAME, WORK_EMAIL

# Sections that show a table's rows, for every table that holds a person identifier (the rule
# is _holds_person_identifiers'). A new such table fails
# test_every_table_that_holds_person_identifiers_is_exported until it is exported and named.
SECTION_OF_TABLE = {
    "staff_members": "staff",
    "staff_history": "history",
    "completions": "completions",
    "awards": "awards",
    "improvement_projects": "projects",
    "project_team_members": "projects",
    "project_reviews": "reviewsGiven",
    "staff_snapshot_members": "snapshotMemberships",
    "uptake_person_deltas": "uptakeContributions",
    "personal_data_corrections": "corrections",
    "erasure_requests": "erasureRequests",
    "staff_pseudonymisations": "pseudonymisation",
    "xapi_statements": "xapiStatements",
    # The agents and activities a statement names, derived from it: shown as the statements.
    "xapi_statement_links": "xapiStatements",
    # The same, copied from the statement a statement names by StatementRef.
    "xapi_statement_ref_keys": "xapiStatements",
    "issued_credentials": "credentials",
    "xapi_documents": "xapiDocuments",
}
# Sections whose rows erasure deletes rather than pseudonymises (exported before it: below).
DELETED_BY_ERASURE = {"xapiDocuments"}
# Tables that name a person by a resource id (employee number, completion or award id).
BY_RESOURCE = {"audit_records": "auditRecords", "events": "events"}
# Tables the rule finds that are not exported, and why.
NOT_EXPORTED = {
    # Which people's uptake the projection is to refresh (internal ids, kept for seconds): what
    # it refreshes them to is exported as uptakeContributions.
    "uptake_pending": "a queue of work on figures exported as uptakeContributions",
    # Answers kept for a day so that a retried request gets the same answer: copies of what the
    # export shows from the tables above (pseudonymisation redacts them all the same).
    "idempotency_records": "copies of answers already exported",
    # Shared by content hash between the statements that declare them; the declarations
    # (sha2, content type, length) are exported with the statements.
    "xapi_attachments": "not yet exported or erased (README: personal data)",
}
# JSON columns that cannot hold a person identifier, and why.
DOCUMENTS_WITHOUT_PEOPLE = {
    ("api_clients", "scopes"): "scope names",
    ("api_clients", "organisations"): "ODS codes",
    ("award_rules", "document"): "levels, course codes and thresholds",
}
IDENTIFYING_COLUMN_NAMES = ("email", "mbox", "given_name", "family_name", "agent")


def _names_a_person_directly(table: Table) -> bool:
    for column in table.columns:
        if any(fk.column.table.name == "staff_members" for fk in column.foreign_keys):
            return True
        if column.name in {"staff_id", "employee_number"}:
            return True
        if any(part in column.name for part in IDENTIFYING_COLUMN_NAMES):
            return True
        if isinstance(column.type, JSON | LargeBinary) and (table.name, column.name) not in (
            DOCUMENTS_WITHOUT_PEOPLE
        ):
            return True
    return False


def _holds_person_identifiers() -> set[str]:
    """The tables that can hold something identifying a person, by this rule:

    - a column is a foreign key to ``staff_members``, or is named ``staff_id`` or
      ``employee_number``, or its name contains ``email``, ``mbox``, ``given_name`` or
      ``family_name``;
    - or a column is named for an xAPI ``agent``;
    - or a column holds JSON or bytes: a document can carry an xAPI actor (``mbox``,
      ``mbox_sha1sum``, ``account``), an e-mail or a name anywhere inside it, so every such
      column counts unless DOCUMENTS_WITHOUT_PEOPLE says why it cannot;
    - or the table has a foreign key to a table the rule found: its rows are about those rows
      (``xapi_statement_links`` holds the agents of a stored statement).
    """
    found = {t.name for t in Base.metadata.sorted_tables if _names_a_person_directly(t)}
    grown = True
    while grown:
        before = len(found)
        for table in Base.metadata.sorted_tables:
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
        grown = len(found) > before
    return found


def test_every_table_that_holds_person_identifiers_is_exported() -> None:
    found = _holds_person_identifiers() - set(BY_RESOURCE)
    assert found == {*SECTION_OF_TABLE, *NOT_EXPORTED}


async def test_the_export_holds_a_row_from_every_table_that_refers_to_them(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject, caught_up: CatchUp
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    erased = await client.post(
        f"/staff/{subject.employee_number}/erasureRequests",
        json={"legalBasis": "objectionUpheld", "overrideReason": "Objection upheld by the DPO"},
        headers=auth(ig),
    )
    assert erased.status_code == 201, erased.text
    await caught_up()

    response = await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))

    assert response.status_code == 200, response.text
    body = response.json()
    for section in [*SECTION_OF_TABLE.values(), *BY_RESOURCE.values()]:
        if section not in DELETED_BY_ERASURE:
            assert body[section], f"{section} is empty"
    assert body["purposes"] and "6(1)(e)" in body["lawfulBasis"]
    assert body["retention"]["retentionYears"] == 6
    assert body["staff"][0]["employeeNumber"] == subject.employee_number
    assert {c["channel"] for c in body["completions"]} == {"api", "xapi"}
    assert any(a["evidence"]["completionIds"] for a in body["awards"])
    assert {p["role"] for p in body["projects"]} == {"lead"}


async def test_the_export_holds_the_xapi_statements_naming_them_and_no_others(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    voiding = {
        "id": "5a1c2c1e-0000-4000-8000-000000000005",
        "actor": {"mbox": "mailto:lms-admin@wales.nhs.uk"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": COMPLETED_BY_MBOX},
    }
    assert (await send(client, subject.lms, voiding)).status_code == 200

    body = (
        await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    ).json()

    exported = {s["statementId"]: s for s in body["xapiStatements"]}
    assert set(exported) == {
        COMPLETED_BY_MBOX,
        ATTEMPTED_BY_ACCOUNT,
        EXPERIENCED_BY_SHA1,
        voiding["id"],
    }
    assert exported[COMPLETED_BY_MBOX]["voided"] is True
    assert exported[ATTEMPTED_BY_ACCOUNT]["statement"]["actor"]["name"] == (
        f"{GIVEN_NAME} {FAMILY_NAME}"
    )
    xapi = [c for c in body["completions"] if c["channel"] == "xapi"]
    assert [c["externalId"] for c in xapi] == [COMPLETED_BY_MBOX]


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


async def test_the_export_holds_the_xapi_documents_about_them_and_no_others(
    client: httpx.AsyncClient, make_client: ClientFactory, subject: Subject
) -> None:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")

    body = (
        await client.get(f"/staff/{subject.employee_number}/personalData", headers=auth(ig))
    ).json()

    documents = {d["documentId"]: d for d in body["xapiDocuments"]}
    assert set(documents) == {"bookmark", "preferences"}
    assert {d["agentKey"] for d in documents.values()} == {f"mbox:mailto:{WORK_EMAIL}"}
    content = base64.b64decode(documents["bookmark"]["content"])
    assert json.loads(content) == DOCUMENT_OF_THEIRS
    assert documents["bookmark"]["contentType"].startswith("application/json")
