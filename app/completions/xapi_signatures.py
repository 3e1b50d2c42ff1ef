"""Signed xAPI statements (Data 2.6, and IEEE 9274.1.1 as xAPI 2.0): a JWS (compact) sent as
an attachment part, whose payload is the statement as it was before the signature was added.

Checked as the specification requires at least: the JWS decodes, its algorithm is RS256, RS384
or RS512, its payload is JSON logically equivalent to the statement received (ignoring what an
LRS may set: id when the signer left it out, authority, stored, timestamp when left out or the
same instant, version; durations compared to 0.01 second), and, when its header carries an
X.509 chain (x5c), the signature verifies against the first certificate. No chain of trust is
checked: as the specification notes, this catches mistakes; it does not authenticate the signer."""

import base64
import binascii
import json
import re
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from app.completions.xapi_statements import parse_timestamp, statement_uuid
from app.completions.xapi_validation import Malformed

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_MEDIA_TYPE = "application/octet-stream"
ALGORITHMS = ("RS256", "RS384", "RS512")
# Set by an LRS whatever the signer sent: never compared.
_SET_BY_LRS = ("authority", "stored", "version")
_SECONDS = re.compile(r"(\d+)\.(\d+)S$")


def is_signature(attachment: Any) -> bool:
    return isinstance(attachment, dict) and attachment.get("usageType") == SIGNATURE_USAGE


def verify_signature(raw: dict[str, Any], jws: bytes, where: str, name: str) -> None:
    """Malformed (naming ``name``, the signature attachment) unless ``jws`` is a well-formed
    signature of the statement ``raw``."""
    try:
        token = jws.decode("ascii").strip()
        header = jwt.get_unverified_header(token)
    except (UnicodeDecodeError, jwt.PyJWTError):
        raise Malformed(where, name, "Not a JWS in compact serialization.") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise Malformed(where, name, "The JWS algorithm must be RS256, RS384 or RS512.")
    key = _certificate_key(header["x5c"], where, name) if "x5c" in header else None
    try:
        decoded = jwt.PyJWS().decode_complete(
            token,
            key=key if key is not None else "",
            algorithms=[algorithm],
            options={"verify_signature": key is not None},
        )
    except jwt.InvalidSignatureError:
        raise Malformed(
            where, name, "The signature does not verify against its x5c certificate."
        ) from None
    except jwt.PyJWTError:
        raise Malformed(where, name, "Not a JWS in compact serialization.") from None
    try:
        original = json.loads(decoded["payload"])
    except ValueError:
        raise Malformed(where, name, "The JWS payload is not JSON.") from None
    if not isinstance(original, dict) or not _equivalent(original, raw):
        raise Malformed(where, name, "The JWS payload is not the statement sent.")


def _certificate_key(chain: Any, where: str, name: str) -> RSAPublicKey:
    """The RSA public key of the first certificate of an x5c chain."""
    try:
        if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
            raise ValueError
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        key = certificate.public_key()
    except (ValueError, binascii.Error):
        raise Malformed(where, name, "The JWS x5c is not a chain of X.509 certificates.") from None
    if not isinstance(key, RSAPublicKey):
        raise Malformed(where, name, "The JWS x5c certificate does not hold an RSA key.")
    return key


def _equivalent(original: dict[str, Any], received: dict[str, Any]) -> bool:
    """Whether the signed statement and the one received are the same statement, ignoring
    what LRS processing may have changed (Data 2.6: id, authority, stored, timestamp,
    version) and the signature attachment itself."""
    signed, sent = _comparable(original), _comparable(received)
    for name in ("id", "timestamp"):
        if name not in signed:
            sent.pop(name, None)  # set by the LRS, or by the sender after signing
        elif name in sent:
            try:
                same = _instant_or_id(name, signed.pop(name)) == _instant_or_id(
                    name, sent.pop(name)
                )
            except Malformed:
                return False
            if not same:
                return False
    return signed == sent


def _comparable(statement: dict[str, Any]) -> dict[str, Any]:
    kept = _with_hundredths({k: v for k, v in statement.items() if k not in _SET_BY_LRS})
    target = kept.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        kept["object"] = _with_hundredths(target)
    if isinstance(kept.get("attachments"), list):
        others = [a for a in kept["attachments"] if not is_signature(a)]
        if others:
            kept["attachments"] = others
        else:
            del kept["attachments"]
    return kept


def _with_hundredths(statement: dict[str, Any]) -> dict[str, Any]:
    """xAPI 2.0 (4.2.7): durations compare to 0.01 second, so a duration is cut to that."""
    result = statement.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("duration"), str):
        return statement
    found = _SECONDS.search(result["duration"])
    if found is None:
        return statement
    fraction = found.group(2)[:2].rstrip("0")
    seconds = found.group(1) + (f".{fraction}" if fraction else "") + "S"
    return {
        **statement,
        "result": {**result, "duration": result["duration"][: found.start()] + seconds},
    }


def _instant_or_id(name: str, value: Any) -> Any:
    if name == "id":
        return statement_uuid(value, "", name)
    return parse_timestamp(value)
