"""xAPI attachments sent as multipart/mixed (Communication 1.5.2): stored with their statements,
answered with attachments=true, and every broken rule of the format is a 400 naming it."""

import json
from typing import Any

import httpx
import pytest

from tests.completions.xapi_examples import (
    MBOX,
    V,
    attachment,
    multipart,
    part,
    parts_of,
    send,
    send_multipart,
    statement,
)
from tests.conftest import auth

ESSAY = b"here is a simple attachment"
CERTIFICATE = b"\x89PNG\r\n\x1a\n\x00binary\r\n--not a boundary\xff"
IDS = ["7ccd3322-e1a5-411a-a67d-6a735c76f119", "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"]


def with_attachments(*data: bytes, **overrides: Any) -> dict[str, Any]:
    return statement(MBOX, attachments=[attachment(d) for d in data], **overrides)


async def read(client: httpx.AsyncClient, creds: dict[str, str], **params: str) -> httpx.Response:
    return await client.get("/xapi/statements", params=params, headers={**auth(creds), **V})


async def test_attachments_are_stored_and_answered_with_attachments_true(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    sent = with_attachments(ESSAY, CERTIFICATE)
    body = multipart(sent, part(ESSAY), part(CERTIFICATE, **{"Content-Type": "image/png"}))
    response = await send_multipart(client, lms, body)
    assert response.status_code == 200, response.text
    assert response.json() == [IDS[0]]

    found = await read(client, lms, statementId=IDS[0], attachments="true")
    assert found.status_code == 200, found.text
    assert found.headers["content-type"].startswith("multipart/mixed; boundary=")
    first, *attachments = parts_of(found)
    assert first.get_content_type() == "application/json"
    assert json.loads(first.get_payload(decode=True))["attachments"] == sent["attachments"]
    by_hash = {p["X-Experience-API-Hash"]: p for p in attachments}
    assert {h: p.get_payload(decode=True) for h, p in by_hash.items()} == {
        a["sha2"]: data for a, data in zip(sent["attachments"], [ESSAY, CERTIFICATE], strict=True)
    }
    assert by_hash[sent["attachments"][1]["sha2"]]["Content-Transfer-Encoding"] == "binary"

    plain = await read(client, lms, statementId=IDS[0])
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["attachments"] == sent["attachments"]


async def test_a_query_with_attachments_true_answers_one_copy_of_each(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    """Two statements declaring one attachment: one part in the request, one in the answer."""
    batch = [with_attachments(ESSAY, id=IDS[0]), with_attachments(ESSAY, id=IDS[1])]
    response = await send_multipart(client, lms, multipart(batch, part(ESSAY)))
    assert response.status_code == 200, response.text

    found = await read(client, lms, attachments="true")
    assert found.status_code == 200, found.text
    first, *attachments = parts_of(found)
    result = json.loads(first.get_payload(decode=True))
    assert {s["id"] for s in result["statements"]} == set(IDS)
    assert [p.get_payload(decode=True) for p in attachments] == [ESSAY]
    assert (await read(client, lms, attachments="false")).json()["statements"]


async def test_put_takes_a_statement_with_its_attachment(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = multipart(with_attachments(ESSAY), part(ESSAY))
    response = await send_multipart(client, lms, body, "PUT", statementId=IDS[0])
    assert response.status_code == 204, response.text
    found = await read(client, lms, statementId=IDS[0], attachments="true")
    assert [p.get_payload(decode=True) for p in parts_of(found)[1:]] == [ESSAY]


async def test_multipart_without_attachments_or_with_file_urls_only_is_accepted(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    linked = statement(
        MBOX, id=IDS[1], attachments=[attachment(ESSAY, fileUrl="http://example.com/essay.txt")]
    )
    response = await send_multipart(client, lms, multipart([statement(MBOX), linked]))
    assert response.status_code == 200, response.text


async def test_a_part_whose_data_does_not_hash_to_its_header_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    declared = attachment(ESSAY)
    body = multipart(
        statement(MBOX, attachments=[declared]), part(b"other data", sha2=declared["sha2"])
    )
    response = await send_multipart(client, lms, body)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "part 1.X-Experience-API-Hash"
    assert (await read(client, lms, statementId=IDS[0])).status_code == 404


async def test_an_attachment_without_its_part_is_400_and_nothing_is_stored(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    batch = [statement(MBOX, id=IDS[1]), with_attachments(ESSAY, CERTIFICATE)]
    response = await send_multipart(client, lms, multipart(batch, part(ESSAY)))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "1.attachments.1.sha2"
    assert (await read(client, lms, statementId=IDS[1])).status_code == 404


async def test_a_part_no_statement_declares_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = multipart(with_attachments(ESSAY), part(ESSAY), part(CERTIFICATE))
    response = await send_multipart(client, lms, body)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "X-Experience-API-Hash"
    assert (await read(client, lms, statementId=IDS[0])).status_code == 404


async def test_an_attachment_without_file_url_sent_as_json_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await send(client, lms, with_attachments(ESSAY))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "attachments.0.fileUrl"


@pytest.mark.parametrize(
    ("content_type", "body", "name"),
    [
        ("multipart/mixed", multipart(statement(MBOX)), "Content-Type"),
        (
            "multipart/mixed; boundary=elsewhere",
            multipart(statement(MBOX)),
            "body",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b--\r\n",
            "Content-Type",
        ),
        ("multipart/mixed; boundary=b", b"--b\r\n", "body"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/json\r\n\r\n"
            + json.dumps(with_attachments(ESSAY)).encode()
            + b"\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            + ESSAY
            + b"\r\n--b--\r\n",
            "part 1.X-Experience-API-Hash",
        ),
    ],
    ids=["no boundary", "other boundary", "first part not JSON", "unterminated", "no hash"],
)
async def test_a_body_that_breaks_the_multipart_format_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], content_type: str, body: bytes, name: str
) -> None:
    headers = {**auth(lms), **V, "Content-Type": content_type}
    response = await client.post("/xapi/statements", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == name


async def test_an_attachment_part_not_sent_binary_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = multipart(
        with_attachments(ESSAY), part(ESSAY, **{"Content-Transfer-Encoding": "base64"})
    )
    response = await send_multipart(client, lms, body)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "part 1.Content-Transfer-Encoding"
