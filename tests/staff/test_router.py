import httpx
import jsonschema_rs
import pytest

from tests.conftest import ClientFactory, auth
from tests.staff.factories import person, seed_organisations, settled_event_types


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    return creds


async def test_put_creates_201_then_replaces_200(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/staff/100001")
    body = created.json()
    assert body["employeeNumber"] == "100001"
    assert body["staffGroup"] == "Nursing and Midwifery Registered"
    assert body["active"] is True
    replaced = await client.put(
        "/staff/100001", json=person(jobTitle="Ward Sister"), headers=auth(admin)
    )
    assert replaced.status_code == 200
    assert replaced.json()["jobTitle"] == "Ward Sister"
    assert replaced.headers["etag"] != created.headers["etag"]


async def test_staff_group_by_code_is_answered_as_name(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put("/staff/100001", json=person(staffGroup="01"), headers=auth(admin))
    assert response.json()["staffGroup"] == "Medical and Dental"


async def test_welsh_names_and_apostrophes_are_kept_exactly(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    names = [("Siân", "Llŷr"), ("Dafydd", "ap Gruffudd"), ("Seán", "O'Brien")]
    for index, (given, family) in enumerate(names):
        number = f"20000{index}"
        await client.put(
            f"/staff/{number}", json=person(givenName=given, familyName=family), headers=auth(admin)
        )
        fetched = (await client.get(f"/staff/{number}", headers=auth(admin))).json()
        assert (fetched["givenName"], fetched["familyName"]) == (given, family)


async def test_unchanged_put_is_200_with_no_event_or_history(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.put("/staff/100001", json=person(), headers=auth(admin))
    again = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert again.status_code == 200
    assert again.headers["etag"] == first.headers["etag"]
    types = await settled_event_types(client, admin, {"staffCreated", "staffUpdated"})
    assert types == ["staffCreated"]


async def test_email_differing_only_in_case_is_unchanged(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(
        "/staff/100001", json=person(workEmail="Sian.Llyr@wales.nhs.uk"), headers=auth(admin)
    )
    again = await client.put(
        "/staff/100001", json=person(workEmail="sian.llyr@WALES.nhs.uk"), headers=auth(admin)
    )
    assert again.status_code == 200
    assert await settled_event_types(client, admin, {"staffUpdated"}) == []


async def test_update_event_names_the_changed_fields(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    await client.put(
        "/staff/100001", json=person(jobTitle="Matron", boardMember=True), headers=auth(admin)
    )
    await settled_event_types(client, admin, {"staffUpdated"})
    feed = (await client.get("/events?types=staffUpdated", headers=auth(admin))).json()
    assert feed["data"][0]["data"] == {"changed": ["jobTitle", "boardMember"]}
    assert "Siân" not in str(feed)


async def test_validation_names_every_bad_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/staff/100001",
        json=person(
            givenName="  ",
            workEmail="not-an-email",
            startDate="2020-01-01",
            endDate="2019-01-01",
            nickname="Sia",
        ),
        headers=auth(admin),
    )
    assert response.status_code == 422
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert {"givenName", "workEmail", "nickname"} <= names


async def test_end_before_start_is_422_naming_end_date(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/staff/100001",
        json=person(startDate="2020-01-01", endDate="2019-01-01"),
        headers=auth(admin),
    )
    assert response.status_code == 422
    assert "endDate" in str(response.json()["invalidParams"])


async def test_unknown_organisation_and_staff_group_are_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/staff/100001", json=person(organisation="ZZZ", staffGroup="Wizards"), headers=auth(admin)
    )
    assert response.status_code == 422
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert names == {"organisation", "staffGroup"}


async def test_if_match_stale_is_412(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await client.put("/staff/100001", json=person(), headers=auth(admin))
    etag = created.headers["etag"]
    await client.put(
        "/staff/100001", json=person(jobTitle="Matron"), headers={**auth(admin), "If-Match": etag}
    )
    stale = await client.put(
        "/staff/100001", json=person(jobTitle="Lost"), headers={**auth(admin), "If-Match": etag}
    )
    assert stale.status_code == 412
    patched = await client.patch(
        "/staff/100001", json={"jobTitle": "Lost"}, headers={**auth(admin), "If-Match": etag}
    )
    assert patched.status_code == 412
    assert (await client.get("/staff/100001", headers=auth(admin))).json()["jobTitle"] == "Matron"


async def test_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    patched = await client.patch(
        "/staff/100001", json={"jobTitle": "Matron", "workEmail": None}, headers=auth(admin)
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["jobTitle"], body["workEmail"], body["givenName"]) == ("Matron", None, "Siân")


async def test_patch_that_breaks_the_record_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    response = await client.patch(
        "/staff/100001", json={"givenName": None, "endDate": "2001-01-01"}, headers=auth(admin)
    )
    assert response.status_code == 422
    assert {p["name"] for p in response.json()["invalidParams"]} >= {"givenName"}


async def test_leaver_is_inactive_and_kept(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(endDate="2021-03-31"), headers=auth(admin))
    fetched = await client.get("/staff/100001", headers=auth(admin))
    assert fetched.status_code == 200
    assert fetched.json()["active"] is False
    leavers = await client.get("/staff?active=false", headers=auth(admin))
    assert [s["employeeNumber"] for s in leavers.json()["data"]] == ["100001"]


async def test_list_filters_and_pages_in_stable_order(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for index in range(5):
        await client.put(
            f"/staff/30000{index}",
            json=person(organisation="7A6" if index % 2 else "7A4", boardMember=index == 4),
            headers=auth(admin),
        )
    seen: list[str] = []
    url: str | None = "/staff?pageSize=2"
    while url:
        page = (await client.get(url, headers=auth(admin))).json()
        seen += [s["employeeNumber"] for s in page["data"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == [f"30000{i}" for i in range(5)]
    in_7a6 = (await client.get("/staff?organisation=7A6", headers=auth(admin))).json()
    assert [s["employeeNumber"] for s in in_7a6["data"]] == ["300001", "300003"]
    board = (await client.get("/staff?boardMember=true", headers=auth(admin))).json()
    assert [s["employeeNumber"] for s in board["data"]] == ["300004"]
    group = (await client.get("/staff?staffGroup=03", headers=auth(admin))).json()
    assert len(group["data"]) == 5


async def test_updated_since_returns_only_later_changes(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    first = (await client.get("/staff/100001", headers=auth(admin))).json()
    await client.put("/staff/100002", json=person("100002"), headers=auth(admin))
    since = first["updatedAt"]
    later = await client.get("/staff", params={"updatedSince": since}, headers=auth(admin))
    numbers = [s["employeeNumber"] for s in later.json()["data"]]
    assert "100002" in numbers


async def test_restricted_client_cannot_see_or_move_other_organisations_staff(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    await client.put("/staff/100001", json=person(organisation="7A4"), headers=auth(admin))
    await client.put(
        "/staff/100002", json=person("100002", organisation="7A6"), headers=auth(admin)
    )
    hr_7a6 = await make_client(scopes=["staff:read", "staff:write"], organisations=["7A6"])
    assert (await client.get("/staff/100001", headers=auth(hr_7a6))).status_code == 404
    listed = (await client.get("/staff", headers=auth(hr_7a6))).json()
    assert [s["employeeNumber"] for s in listed["data"]] == ["100002"]
    steal = await client.put("/staff/100001", json=person(organisation="7A6"), headers=auth(hr_7a6))
    assert steal.status_code == 409
    assert steal.json()["detail"] == "Employee number 100001 cannot be used by this client."
    move_out = await client.put(
        "/staff/100002", json=person("100002", organisation="7A4"), headers=auth(hr_7a6)
    )
    assert move_out.status_code == 403
    stored = (await client.get("/staff/100002", headers=auth(admin))).json()
    assert stored["organisation"] == "7A6"


async def test_a_refused_put_is_audited_as_for_a_number_never_used(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    """Audit records of the client's organisation are readable by it: a PUT to another
    organisation's number noted as "update" would say that the number is someone's."""
    await client.put(
        "/staff/200001", json=person("200001", organisation="7A6"), headers=auth(admin)
    )
    hr_7a4 = await make_client(scopes=["staff:write", "audit:read"], organisations=["7A4"])
    taken = await client.put("/staff/200001", json=person("200001"), headers=auth(hr_7a4))
    assert taken.status_code == 409
    free = await client.put("/staff/100009", json=person("100009"), headers=auth(hr_7a4))
    assert free.status_code == 201
    records = (await client.get("/auditRecords?resourceType=staff", headers=auth(hr_7a4))).json()
    assert [(r["action"], r["resourceId"]) for r in records["data"]] == [
        ("create", "200001"),
        ("create", "100009"),
    ]


async def test_reads_and_writes_are_audited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    await client.get("/staff/100001", headers=auth(admin))
    await client.get("/staff", headers=auth(admin))
    records = (await client.get("/auditRecords?resourceType=staff", headers=auth(admin))).json()
    assert [(r["action"], r["resourceId"]) for r in records["data"]] == [
        ("create", "100001"),
        ("read", "100001"),
        ("list", None),
    ]


async def test_scopes_are_required(client: httpx.AsyncClient, make_client: ClientFactory) -> None:
    reader = await make_client(scopes=["organisations:read"])
    assert (await client.get("/staff", headers=auth(reader))).status_code == 403
    assert (await client.put("/staff/1", json=person(), headers=auth(reader))).status_code == 403


@pytest.mark.parametrize(
    "field", ["givenName", "familyName", "organisation", "staffGroup", "startDate"]
)
async def test_a_patch_cannot_remove_a_field_every_record_holds_and_the_contract_says_so(
    client: httpx.AsyncClient, admin: dict[str, str], field: str
) -> None:
    stored = (await client.put("/staff/100001", json=person(), headers=auth(admin))).json()
    response = await client.patch("/staff/100001", json={field: None}, headers=auth(admin))
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalidParams"]] == [field]
    assert (await client.get("/staff/100001", headers=auth(admin))).json() == stored
    document = (await client.get("/openapi.json")).json()
    declared = document["components"]["schemas"]["StaffPatch"]
    assert not jsonschema_rs.validator_for(declared).is_valid({field: None})


async def test_a_patch_removing_board_membership_leaves_it_false(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """JSON merge patch: null removes the field, which then has its default, as in a PUT
    without it; the contract lets null through for the fields that can be removed."""
    await client.put("/staff/100001", json=person(boardMember=True), headers=auth(admin))
    removed = {"boardMember": None, "jobTitle": None, "endDate": None}
    patched = await client.patch("/staff/100001", json=removed, headers=auth(admin))
    assert patched.status_code == 200, patched.text
    assert (patched.json()["boardMember"], patched.json()["jobTitle"]) == (False, None)
    document = (await client.get("/openapi.json")).json()
    declared = document["components"]["schemas"]["StaffPatch"]
    assert jsonschema_rs.validator_for(declared).is_valid(removed)


async def test_a_leaver_taken_back_is_announced_on_the_feed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """A consumer that saw ``staffEndDated`` must learn that the end date was cleared."""
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    left = await client.patch("/staff/100001", json={"endDate": "2024-03-31"}, headers=auth(admin))
    assert left.json()["active"] is False
    back = await client.patch("/staff/100001", json={"endDate": None}, headers=auth(admin))
    assert back.status_code == 200, back.text
    assert back.json()["active"] is True
    types = {"staffCreated", "staffUpdated", "staffEndDated"}
    assert await settled_event_types(client, admin, types) == [
        "staffCreated",
        "staffEndDated",
        "staffUpdated",
    ]
    feed = (await client.get("/events?limit=1000", headers=auth(admin))).json()["data"]
    updated = [e for e in feed if e["type"] == "staffUpdated"]
    assert updated[-1]["resourceId"] == "100001"
    assert updated[-1]["data"]["changed"] == ["endDate"]
