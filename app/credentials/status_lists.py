"""W3C Bitstring Status List (revocation): where each credential sits, and the lists' bits.

Each credential has one bit, at the place its ``issued_credentials`` id gives it: list
``(id - 1) // LIST_SIZE + 1``, index ``(id - 1) % LIST_SIZE``. A set bit means revoked. The
list is GZIP-compressed and base64url-encoded with the multibase prefix ``u``, as the
Recommendation says; 131,072 entries (16 KiB) is its minimum size, so that one credential's
bit hides among many.
"""

import base64
import gzip
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from app.credentials.achievements import CredentialUrls

LIST_SIZE = 131_072
STATUS_PURPOSE = "revocation"


def position(credential_row_id: int) -> tuple[int, int]:
    """The (list number, index) of a credential, from its row id."""
    return (credential_row_id - 1) // LIST_SIZE + 1, (credential_row_id - 1) % LIST_SIZE


def row_ids(list_number: int) -> tuple[int, int]:
    """The first and last row ids a list covers."""
    first = (list_number - 1) * LIST_SIZE + 1
    return first, first + LIST_SIZE - 1


def status_entry(urls: CredentialUrls, credential_row_id: int) -> dict[str, Any]:
    """A credential's ``credentialStatus``: a ``BitstringStatusListEntry``."""
    number, index = position(credential_row_id)
    return {
        "id": f"{urls.status_list(number)}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": urls.status_list(number),
    }


def encode(revoked_indexes: Iterable[int]) -> str:
    """The ``encodedList`` with these indexes set (the first index is the leftmost bit)."""
    bits = bytearray(LIST_SIZE // 8)
    for index in revoked_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def is_set(encoded_list: str, index: int) -> bool:
    """Whether an ``encodedList`` has this index set (what a verifier computes)."""
    text = encoded_list.removeprefix("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    urls: CredentialUrls, number: int, encoded_list: str, now: datetime
) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of one list, as of now."""
    url = urls.status_list(number)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": urls.issuer,
        "validFrom": iso_seconds(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encoded_list,
        },
    }


def iso_seconds(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, as credentials carry their dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
