"""A staff record's fields are declared once (app/staff/fields.py): every declared field shows
in the contract, the CSV columns, PATCH, the answer, the history, the events, the subject
access export, the rectification trail and pseudonymisation — so a field added in one place
and not the others fails here."""

from typing import Any

import httpx
from pydantic.alias_generators import to_camel

from app.staff.fields import FIELDS, HR_FIELDS, PersonalData, StaffRow
from tests.conftest import ClientFactory, auth, read_events
from tests.staff.factories import seed_organisations

# For each declared field, by JSON name: the CSV cell sent, the value answered, the value
# PATCH changes it to (answered the same), and the value the export shows once changed (its
# column's). A field declared without a line here fails every test below.
SENT = {
    "employeeNumber": ("700001", "700001", None, "700001"),
    "givenName": ("Gwenllian", "Gwenllian", "Gwen", "Gwen"),
    "familyName": ("ap Rhys", "ap Rhys", "Rhys", "Rhys"),
    "workEmail": ("gwen.aprhys@wales.nhs.uk", "gwen.aprhys@wales.nhs.uk", "g.rhys@wales.nhs.uk",
                  "g.rhys@wales.nhs.uk"),
    "organisation": ("7A4", "7A4", "7A6", "7A6"),
    "staffGroup": ("03", "Nursing and Midwifery Registered", "Allied Health Professionals", "04"),
    "jobTitle": ("Matron", "Matron", "Ward Manager", "Ward Manager"),
    "boardMember": ("yes", True, False, False),
    "startDate": ("01/04/2019", "2019-04-01", "2019-05-01", "2019-05-01"),
    "endDate": ("31/12/2030", "2030-12-31", "2031-01-31", "2031-01-31"),
}  # fmt: skip
SCOPES = [
    *("staff:read", "staff:write", "organisations:write", "events:read"),
    *("personalData:read", "personalData:erase"),
]


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


async def test_every_declared_field_is_in_the_contract_and_nothing_else_is(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    every = [f.wire for f in FIELDS]
    changeable = [f.wire for f in HR_FIELDS]
    assert list(_schema(document, "StaffPut")["properties"]) == changeable
    assert list(_schema(document, "StaffPatch")["properties"]) == changeable
    assert set(_schema(document, "StaffBatchRecord")["properties"]) == set(every)
    assert list(_schema(document, "StaffRead")["properties"])[: len(every)] == every
    history = list(_schema(document, "StaffHistoryPeriod")["properties"])
    assert history[2:] == [f.wire for f in FIELDS if f.history]
    kept = [f.wire for f in HR_FIELDS if f.kept]
    assert _schema(document, "StaffPut")["required"] == kept
    batch = document["paths"]["/staffBatches"]["post"]["requestBody"]["description"]
    assert ", ".join(f.header for f in FIELDS) in batch
    assert list(StaffRow._fields) == [f.column for f in FIELDS]
    assert set(SENT) == set(every)


async def test_every_declared_field_travels_from_csv_to_patch_history_events_and_export(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client(scopes=SCOPES, name="HR and governance")
    headers = auth(creds)
    await seed_organisations(client, creds)
    number = SENT["employeeNumber"][0]
    csv = ",".join(f.header for f in FIELDS) + "\r\n"
    csv += ",".join(SENT[f.wire][0] for f in FIELDS) + "\r\n"
    sent = await client.post(
        "/staffBatches",
        params={"mode": "upsert"},
        content=csv.encode(),
        headers={**headers, "content-type": "text/csv"},
    )
    assert (sent.status_code, sent.json()["created"]) == (200, 1), sent.text
    stored = (await client.get(f"/staff/{number}", headers=headers)).json()
    assert {f.wire: stored[f.wire] for f in FIELDS} == {w: v[1] for w, v in SENT.items()}

    changes = {f.wire: SENT[f.wire][2] for f in HR_FIELDS}
    patched = await client.patch(
        f"/staff/{number}",
        json=changes,
        headers={**headers, "content-type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert {w: patched.json()[w] for w in changes} == changes

    periods = (await client.get(f"/staff/{number}/history", headers=headers)).json()["periods"]
    history = [f.wire for f in FIELDS if f.history]
    assert {w: periods[0][w] for w in history} == {w: SENT[w][1] for w in history}
    assert {w: periods[-1][w] for w in history} == {w: SENT[w][2] for w in history}

    staff_events = "staffCreated,staffUpdated,staffEndDated"
    feed = (await read_events(client, headers, at_least=3, types=staff_events))["data"]
    [updated] = [e for e in feed if e["type"] == "staffUpdated"]
    assert updated["data"]["changed"] == [w for w in changes if w != "endDate"]
    [ended] = [e for e in feed if e["type"] == "staffEndDated"]
    assert ended["data"]["endDate"] == SENT["endDate"][2]

    export = (await client.get(f"/staff/{number}/personalData", headers=headers)).json()
    [row] = export["staff"]
    assert {f.wire: row[to_camel(f.column)] for f in FIELDS} == {w: v[3] for w, v in SENT.items()}
    [correction] = export["corrections"]
    identifying = [f.wire for f in FIELDS if f.personal is PersonalData.IDENTIFIES]
    assert correction["fields"] == identifying

    erased = await client.post(
        f"/staff/{number}/erasureRequests",
        json={"legalBasis": "objectionUpheld", "overrideReason": "Objection upheld by the DPO"},
        headers=headers,
    )
    assert erased.status_code == 201, erased.text
    export = (await client.get(f"/staff/{number}/personalData", headers=headers)).json()
    [row] = export["staff"]
    for f in FIELDS:
        kept = f.personal in (PersonalData.KEY, PersonalData.COUNTED)
        assert (row[to_camel(f.column)] == SENT[f.wire][3]) is kept, f.wire
        for derived in f.derived:
            assert row[to_camel(derived)] is None, derived
