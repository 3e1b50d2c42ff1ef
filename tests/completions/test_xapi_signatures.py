"""Signed xAPI statements (Data 2.6): a JWS attachment whose payload is the statement; signed
here with joserfc, independently of the PyJWT the service verifies with."""

import base64
import datetime
import json
import uuid
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import OctKey, RSAKey

from tests.completions.xapi_examples import (
    MBOX,
    V,
    attachment,
    multipart,
    part,
    send_multipart,
    statement,
)
from tests.conftest import auth

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
STATEMENT_ID = "7ccd3322-e1a5-411a-a67d-6a735c76f119"


@pytest.fixture(scope="module")
def signer() -> RSAKey:
    return RSAKey.generate_key(2048)


@pytest.fixture(scope="module")
def other_signer() -> RSAKey:
    return RSAKey.generate_key(2048)


def certificate_of(key: RSAKey) -> str:
    """A self-signed certificate of the key, base64 DER as x5c carries it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Learning@Wales content")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())  # type: ignore[union-attr]
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key.private_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def signed(original: dict[str, Any], token: str, **declared: Any) -> bytes:
    """The statement with its signature attachment, and the JWS as its part, multipart."""
    data = token.encode()
    declaration = attachment(data, usageType=SIGNATURE, contentType="application/octet-stream")
    body = {**original, "attachments": [declaration | declared]}
    return multipart(body, part(data, **{"Content-Type": "application/octet-stream"}))


def sign(
    original: dict[str, Any], key: RSAKey | OctKey, algorithm: str = "RS256", **header: Any
) -> str:
    payload = json.dumps(original).encode()
    return jws.serialize_compact({"alg": algorithm, **header}, payload, key, [algorithm])


async def stored(client: httpx.AsyncClient, creds: dict[str, str]) -> int:
    response = await client.get(
        "/xapi/statements", params={"statementId": STATEMENT_ID}, headers={**auth(creds), **V}
    )
    return response.status_code


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
async def test_a_signed_statement_is_stored(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey, algorithm: str
) -> None:
    original = statement(MBOX)
    response = await send_multipart(
        client, lms, signed(original, sign(original, signer, algorithm))
    )
    assert response.status_code == 200, response.text
    assert await stored(client, lms) == 200


async def test_a_signature_over_the_statement_without_its_id_and_timestamp_verifies(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey
) -> None:
    """The signer may leave out what an LRS sets (id, timestamp, authority, version)."""
    original = {k: v for k, v in statement(MBOX).items() if k not in ("id", "timestamp")}
    token = sign(original, signer, x5c=[certificate_of(signer)])
    sent = {**original, "id": STATEMENT_ID, "timestamp": "2015-12-18T12:17:00Z"}
    response = await send_multipart(client, lms, signed(sent, token))
    assert response.status_code == 200, response.text


async def test_a_signature_that_does_not_verify_against_its_certificate_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey, other_signer: RSAKey
) -> None:
    original = statement(MBOX)
    token = sign(original, signer, x5c=[certificate_of(other_signer)])
    response = await send_multipart(client, lms, signed(original, token))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "attachments.0"
    assert "x5c" in response.json()["invalidParams"][0]["reason"]
    assert await stored(client, lms) == 404


async def test_a_signature_of_another_statement_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey
) -> None:
    original = statement(MBOX)
    other = statement(MBOX, result={"success": False, "completion": True})
    token = sign(other, signer, x5c=[certificate_of(signer)])
    response = await send_multipart(client, lms, signed(original, token))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"] == [
        {"name": "attachments.0", "reason": "The JWS payload is not the statement sent."}
    ]
    assert await stored(client, lms) == 404


async def test_a_signature_with_another_algorithm_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    original = statement(MBOX)
    token = sign(original, OctKey.generate_key(256), "HS256")
    response = await send_multipart(client, lms, signed(original, token))
    assert response.status_code == 400, response.text
    assert "RS256" in response.json()["invalidParams"][0]["reason"]


async def test_a_signature_that_is_not_a_jws_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await send_multipart(client, lms, signed(statement(MBOX), "not.a-jws"))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "attachments.0"


async def test_a_signature_not_sent_as_octet_stream_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey
) -> None:
    original = statement(MBOX)
    body = signed(original, sign(original, signer), contentType="text/plain; charset=ascii")
    response = await send_multipart(client, lms, body)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "attachments.0.contentType"


async def test_put_takes_a_signed_statement_whose_id_is_the_statement_id_parameter(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey
) -> None:
    original = statement(MBOX)
    sent = {k: v for k, v in original.items() if k != "id"}
    body = signed(sent, sign(original, signer))
    response = await send_multipart(client, lms, body, "PUT", statementId=STATEMENT_ID)
    assert response.status_code == 204, response.text
    assert await stored(client, lms) == 200


async def test_a_duration_compares_with_its_signature_to_the_hundredth_of_a_second(
    client: httpx.AsyncClient, lms: dict[str, str], signer: RSAKey
) -> None:
    """xAPI 2.0 (4.2.7): precision beyond 0.01 s is not compared."""
    original = statement(MBOX, result={"duration": "P1DT12H36M0.12S"})
    token = sign(original, signer)
    finer = statement(MBOX, result={"duration": "P1DT12H36M0.1237S"})
    assert (await send_multipart(client, lms, signed(finer, token))).status_code == 200
    coarser = statement(MBOX, id=str(uuid.uuid4()), result={"duration": "P1DT12H36M0.13S"})
    token = sign({**original, "id": coarser["id"]}, signer)
    assert (await send_multipart(client, lms, signed(coarser, token))).status_code == 400
