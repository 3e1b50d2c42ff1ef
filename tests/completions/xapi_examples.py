"""xAPI statements shaped like the specification's own examples, and how to send them."""

import email
import email.message
import email.policy
import hashlib
import json
from typing import Any

import httpx

from tests.completions.factories import BRONZE_ACTIVITY
from tests.conftest import auth

HOME_PAGE = "http://www.example.com"
V = {"X-Experience-API-Version": "1.0.3"}


def statement(who: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Shaped like the specification's "Completion" example (Appendix A), on our activity."""
    body: dict[str, Any] = {
        "id": "7ccd3322-e1a5-411a-a67d-6a735c76f119",
        "timestamp": "2015-12-18T12:17:00+00:00",
        "actor": {"objectType": "Agent", "name": "Example Learner", **who},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed"},
        },
        "object": {
            "id": BRONZE_ACTIVITY,
            "definition": {
                "name": {"en-US": "simple CBT course"},
                "description": {"en-US": "A fictitious example CBT course."},
            },
        },
        "result": {
            "score": {"scaled": 0.95},
            "success": True,
            "completion": True,
            "duration": "PT1234S",
        },
    }
    body.update(overrides)
    return body


ACCOUNT = {"account": {"homePage": HOME_PAGE, "name": "13936749"}}
MBOX = {"mbox": "mailto:example.learner@adlnet.gov"}
SHA1 = {"mbox_sha1sum": hashlib.sha1(b"mailto:example.learner@adlnet.gov").hexdigest()}  # noqa: S324


async def send(
    client: httpx.AsyncClient, creds: dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    return await client.post("/xapi/statements", json=body, headers={**auth(creds), **V, **headers})


async def only_completion(client: httpx.AsyncClient, creds: dict[str, str]) -> dict[str, Any]:
    [found] = (await client.get("/completions", headers=auth(creds))).json()["data"]
    return dict(found)


BOUNDARY = "abcABC0123'()+_,-./:=?"


def attachment(data: bytes, **overrides: Any) -> dict[str, Any]:
    """An attachment declaration of ``data``, to be sent as a part (no fileUrl)."""
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": len(data),
        "sha2": hashlib.sha256(data).hexdigest(),
        **overrides,
    }


def part(data: bytes, sha2: str | None = None, **headers: str) -> tuple[bytes, dict[str, str]]:
    """An attachment part: its data, with X-Experience-API-Hash (its SHA-256 unless given)."""
    return data, {
        "Content-Type": "text/plain",
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": sha2 or hashlib.sha256(data).hexdigest(),
        **headers,
    }


def multipart(body: Any, *parts: tuple[bytes, dict[str, str]]) -> bytes:
    """The statement(s) and the parts in xAPI's multipart/mixed format (RFC 2046, CRLF)."""
    chunks = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode()]
    chunks.append(json.dumps(body).encode())
    for data, headers in parts:
        chunks.append(f"\r\n--{BOUNDARY}\r\n".encode())
        chunks += [f"{name}: {value}\r\n".encode() for name, value in headers.items()]
        chunks += [b"\r\n", data]
    chunks.append(f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


async def send_multipart(
    client: httpx.AsyncClient,
    creds: dict[str, str],
    content: bytes,
    method: str = "POST",
    **params: str,
) -> httpx.Response:
    headers = {**auth(creds), **V, "Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'}
    return await client.request(
        method, "/xapi/statements", content=content, headers=headers, params=params
    )


def parts_of(response: httpx.Response) -> list[email.message.Message]:
    """The parts of a multipart/mixed answer, read by the standard library's MIME parser."""
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + response.content, policy=email.policy.HTTP)
    assert message.is_multipart()
    return [p for p in message.iter_parts()]  # type: ignore[attr-defined]
