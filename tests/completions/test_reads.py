import httpx

from tests.completions.factories import COMPLETION_SCOPES, completion, post
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person


async def _ids(client: httpx.AsyncClient, creds: dict[str, str], query: str = "") -> list[int]:
    response = await client.get(f"/completions{query}", headers=auth(creds))
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


async def test_filters_by_employee_number_course_match_status_and_since(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    await client.put(
        "/courses/QI-BASICS", json={"title": "QI basics", "provider": "ESR"}, headers=auth(admin)
    )
    a = (await post(client, platform, completion("a"))).json()
    b = (await post(client, platform, completion("b", courseCode="QI-BASICS"))).json()
    c = (await post(client, platform, completion("c", number="999999"))).json()
    assert await _ids(client, platform) == [a["id"], b["id"], c["id"]]
    assert await _ids(client, platform, "?employeeNumber=100001") == [a["id"], b["id"]]
    assert await _ids(client, platform, "?employeeNumber=999999") == [c["id"]]
    assert await _ids(client, platform, "?courseCode=QI-BASICS") == [b["id"]]
    assert await _ids(client, platform, "?matchStatus=matched") == [a["id"], b["id"]]
    since = c["updatedAt"].replace("+00:00", "Z")
    assert await _ids(client, platform, f"?since={since}") == [c["id"]]
    await client.delete(f"/completions/{a['id']}?reason=x", headers=auth(platform))
    assert await _ids(client, platform, "?retracted=true") == [a["id"]]


async def test_pages_follow_the_next_link(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    for i in range(5):
        await post(client, platform, completion(f"p{i}"))
    seen: list[int] = []
    url: str | None = "/completions?pageSize=2"
    while url:
        page = (await client.get(url, headers=auth(platform))).json()
        seen += [c["id"] for c in page["data"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 5


async def test_a_restricted_client_sees_its_organisations_and_its_own_unmatched(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform: dict[str, str],
    make_client: ClientFactory,
) -> None:
    await client.put("/staff/100001", json=person(organisation="7A4"), headers=auth(admin))
    await client.put(
        "/staff/100002", json=person("100002", organisation="7A6"), headers=auth(admin)
    )
    cardiff = await make_client(scopes=COMPLETION_SCOPES, organisations=["7A4"], name="C&V")
    theirs = (await post(client, platform, completion("a", number="100001"))).json()
    elsewhere = (await post(client, platform, completion("b", number="100002"))).json()
    others_unmatched = (await post(client, platform, completion("c", number="999998"))).json()
    own_unmatched = (await post(client, cardiff, completion("d", number="999999"))).json()
    assert await _ids(client, cardiff) == [theirs["id"], own_unmatched["id"]]
    for hidden in (elsewhere, others_unmatched):
        response = await client.get(f"/completions/{hidden['id']}", headers=auth(cardiff))
        assert response.status_code == 404
    assert await _ids(client, platform) == [
        theirs["id"],
        elsewhere["id"],
        others_unmatched["id"],
        own_unmatched["id"],
    ]


async def test_reads_are_audited_as_personal_data(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    sent = (await post(client, platform, completion())).json()
    await client.get(f"/completions/{sent['id']}", headers=auth(platform))
    await client.get("/completions", headers=auth(platform))
    records = (
        await client.get(
            f"/auditRecords?resourceType=completion&clientId={platform['client_id']}",
            headers=auth(admin),
        )
    ).json()["data"]
    assert [(r["action"], r["resourceId"]) for r in records] == [
        ("create", str(sent["id"])),
        ("read", str(sent["id"])),
        ("list", None),
    ]


async def test_reading_needs_completions_read(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    writer = await make_client(scopes=["completions:write"])
    assert (await client.get("/completions", headers=auth(writer))).status_code == 403


async def test_an_unknown_completion_is_404(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    response = await client.get("/completions/424242", headers=auth(platform))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
