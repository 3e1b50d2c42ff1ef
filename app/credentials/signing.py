"""VC-JWT as Open Badges 3.0 defines it (its "JSON Web Token Proof Format"), with PyJWT.

The JWS payload is the credential itself with the registered claims ``iss`` (issuer id),
``jti`` (credential id), ``sub`` (credentialSubject id), ``nbf`` (validFrom), ``exp``
(validUntil, when there is one) and ``iat``; the header holds ``alg`` (ES256), ``typ`` (JWT)
and ``kid``, the URL of the public key (``/credentials/keys/{kid}``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from app.core.credential_keys import ALGORITHM, CredentialKey
from app.credentials.achievements import KEYS_PATH, CredentialUrls

# The registered claims a credential's JWT adds to the credential.
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat")


def sign(
    credential: dict[str, Any],
    key: CredentialKey,
    urls: CredentialUrls,
    issued_at: datetime,
    media_type: str = "JWT",
) -> str:
    """The credential as a compact JWS; ``media_type`` is the header's ``typ`` (Open Badges
    credentials: JWT; a status list credential: vc+jwt, as VC-JOSE-COSE has it)."""
    issuer = credential["issuer"]
    claims = {
        **credential,
        "iss": issuer if isinstance(issuer, str) else issuer["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": _seconds(credential["validFrom"]),
        "iat": int(issued_at.timestamp()),
    }
    if "validUntil" in credential:
        claims["exp"] = _seconds(credential["validUntil"])
    return jwt.encode(
        claims,
        key.signing_key(),
        algorithm=ALGORITHM,
        headers={"kid": urls.key(key.kid), "typ": media_type},
    )


@dataclass(frozen=True)
class Checked:
    """What checking a JWT found: the payload when the signature holds, else why not."""

    payload: dict[str, Any] | None
    failure: str | None = None  # malformed, unknownKey, signature, claims
    detail: str | None = None


def check_signature(token: str, keys: tuple[CredentialKey, ...]) -> Checked:
    """Checks the JWS signature with the key its header names, and that the registered
    claims repeat the credential (Open Badges 3.0, "Verify a Credential VC-JWT Signature").
    Validity dates are not checked here: the caller says whether they hold now."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return Checked(None, "malformed", "This is not a compact JWS (a VC-JWT).")
    kid = str(header.get("kid") or "")
    name = kid.rsplit(KEYS_PATH, 1)[-1] if KEYS_PATH in kid else None
    key = next((k for k in keys if k.kid == name), None)
    if key is None:
        return Checked(
            None, "unknownKey", "The credential names no key of this service in its header."
        )
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key.verifying_key(),
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        return Checked(None, "signature", "The signature does not match the credential.")
    except jwt.PyJWTError:
        return Checked(None, "malformed", "The JWS cannot be read.")
    return _claims_repeat_the_credential(payload)


def _claims_repeat_the_credential(payload: dict[str, Any]) -> Checked:
    try:
        expected = {
            "iss": payload["issuer"]["id"],
            "jti": payload["id"],
            "sub": payload["credentialSubject"]["id"],
            "nbf": _seconds(payload["validFrom"]),
        }
        if "validUntil" in payload:
            expected["exp"] = _seconds(payload["validUntil"])
    except (KeyError, TypeError, ValueError):
        return Checked(payload, "claims", "The payload is not an OpenBadgeCredential.")
    wrong = sorted(name for name, value in expected.items() if payload.get(name) != value)
    if wrong:
        return Checked(
            payload, "claims", f"The claims {', '.join(wrong)} do not repeat the credential."
        )
    return Checked(payload)


def _seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
