import asyncio

import httpx
import pytest

from tests.completions.conftest import BRONZE_COURSE
from tests.conftest import ClientFactory, auth

OTHER_ACTIVITY = "https://learning.nhs.wales/xapi/activities/qi-basics"


@pytest.fixture
async def admin(make_client: ClientFactory) -> dict[str, str]:
    return await make_client(name="admin")


async def test_put_creates_201_then_replaces_200(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/courses/IQT-BRONZE")
    body = created.json()
    assert body["courseCode"] == "IQT-BRONZE"
    assert body["countsTowards"] == "bronze"
    assert body["passRequired"] is True
    assert body["minimumScore"] is None
    assert body["active"] is True
    changed = {**BRONZE_COURSE, "minimumScore": 0.8}
    replaced = await client.put("/courses/IQT-BRONZE", json=changed, headers=auth(admin))
    assert replaced.status_code == 200
    assert replaced.json()["minimumScore"] == 0.8
    assert replaced.headers["etag"] != created.headers["etag"]


async def test_unchanged_put_keeps_the_etag(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    again = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    assert again.status_code == 200
    assert again.headers["etag"] == first.headers["etag"]


async def test_get_one_and_list_with_activity_ids_in_order(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    activities = ["https://b.example/2", "https://a.example/1"]
    await client.put(
        "/courses/QI-BASICS",
        json={"title": "QI basics", "provider": "ESR OLM", "xapiActivityIds": activities},
        headers=auth(admin),
    )
    await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    one = await client.get("/courses/QI-BASICS", headers=auth(admin))
    assert one.status_code == 200
    assert one.json()["xapiActivityIds"] == activities
    assert one.json()["countsTowards"] is None
    listed = (await client.get("/courses", headers=auth(admin))).json()
    assert [c["courseCode"] for c in listed["data"]] == ["IQT-BRONZE", "QI-BASICS"]


async def test_unknown_course_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/courses/NOPE", headers=auth(admin))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"countsTowards": "platinum"}, "countsTowards"),
        ({"minimumScore": 1.5}, "minimumScore"),
        ({"xapiActivityIds": ["not an iri"]}, "xapiActivityIds.0"),
        ({"xapiActivityIds": [OTHER_ACTIVITY, OTHER_ACTIVITY]}, "xapiActivityIds"),
        ({"title": "  "}, "title"),
    ],
)
async def test_invalid_course_is_422_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], change: dict[str, object], field: str
) -> None:
    response = await client.put(
        "/courses/IQT-BRONZE", json={**BRONZE_COURSE, **change}, headers=auth(admin)
    )
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalidParams"]] == [field]


async def test_an_activity_id_of_another_course_is_409(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    response = await client.put(
        "/courses/COPY",
        json={**BRONZE_COURSE, "title": "Copy"},
        headers=auth(admin),
    )
    assert response.status_code == 409
    assert "IQT-BRONZE" in response.json()["invalidParams"][0]["reason"]
    assert (await client.get("/courses/COPY", headers=auth(admin))).status_code == 404


async def test_stale_if_match_is_412(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    response = await client.put(
        "/courses/IQT-BRONZE",
        json={**BRONZE_COURSE, "active": False},
        headers={**auth(admin), "If-Match": '"7"'},
    )
    assert response.status_code == 412


async def test_writing_needs_courses_write(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    reader = await make_client(scopes=["courses:read"])
    response = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(reader))
    assert response.status_code == 403
    assert (await client.get("/courses", headers=auth(reader))).status_code == 200


async def test_a_restricted_client_cannot_change_the_programme_wide_catalogue(
    client: httpx.AsyncClient, make_client: ClientFactory, admin: dict[str, str]
) -> None:
    restricted = await make_client(scopes=["courses:read", "courses:write"], organisations=["7A4"])
    response = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(restricted))
    assert response.status_code == 403
    assert "programme-wide" in response.json()["detail"]
    assert (await client.get("/courses/IQT-BRONZE", headers=auth(admin))).status_code == 404


async def test_if_match_star_on_a_missing_course_is_412_and_creates_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/courses/IQT-BRONZE", json=BRONZE_COURSE, headers={**auth(admin), "If-Match": "*"}
    )
    assert response.status_code == 412
    assert (await client.get("/courses/IQT-BRONZE", headers=auth(admin))).status_code == 404


async def test_concurrent_creates_of_one_course_never_answer_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    responses = await asyncio.gather(
        *(
            client.put(
                "/courses/NEW-COURSE",
                json=BRONZE_COURSE | {"xapiActivityIds": []},
                headers=auth(admin),
            )
            for _ in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
