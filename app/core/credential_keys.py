"""The credentials' key ring: ES256 (ECDSA on P-256) keys named by ``kid``, from settings.

The first key signs; every key, those given by their public key alone too, is published in the
JWK set and verifies the credentials that name it, so a rotation leaves earlier credentials
verifiable (docs/open-badges.md, "Keys"). This module reads no settings: settings read it.
"""

import base64
import binascii
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, model_validator

ALGORITHM = "ES256"
# A P-256 key for development and tests only, like the token key's development default: a
# production service refuses to start with it (app/core/settings.py).
DEVELOPMENT_CREDENTIAL_KEY = (
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVlQejBFkJsm0/QoxXp8mDiO3PXCO8V3l1clEjsJVc9eh"
    "RANCAATZdUTQHNhM0tyeGNdjzeIBiUDjvy2S38KiyJZP18rz0T5wBWqPDF21L99kjGbM1uld9hOojlQC/yAayYEf5onF"
)


class CredentialKey(BaseModel):
    """One key of the ring: a private key (it can sign) or a public key (it only verifies)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    kid: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    private_key: str | None = Field(default=None, alias="privateKey", repr=False)
    public_key: str | None = Field(default=None, alias="publicKey")

    @model_validator(mode="after")
    def _one_p256_key(self) -> "CredentialKey":
        if (self.private_key is None) == (self.public_key is None):
            raise ValueError(f"credential key {self.kid}: give privateKey or publicKey, not both")
        self.verifying_key()  # a key that is not P-256 is refused when settings are read
        return self

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        if self.private_key is None:
            raise ValueError(f"credential key {self.kid} has no private key: it cannot sign")
        return _private_key(self.private_key)

    def verifying_key(self) -> ec.EllipticCurvePublicKey:
        if self.private_key is not None:
            return _private_key(self.private_key).public_key()
        assert self.public_key is not None
        return _public_key(self.public_key)

    def public_jwk(self, kid: str) -> dict[str, Any]:
        """The public key as a JWK named ``kid`` (never with the private part ``d``)."""
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.verifying_key(), as_dict=True)
        return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def credential_key_entry(entry: object) -> object:
    """``kid:key`` (a base64 DER private key) as a key; anything else (a JSON object) as is."""
    if isinstance(entry, str):
        kid, colon, key = entry.strip().partition(":")
        if not colon:
            raise ValueError("each of IQT_CREDENTIAL_SIGNING_KEYS is kid:key")
        return {"kid": kid, "privateKey": key}
    return entry


def _key_bytes(text: str) -> tuple[bytes, bool]:
    """The key's bytes, and whether they are PEM (else DER)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode(), True
    try:
        return base64.b64decode(text, validate=True), False
    except (binascii.Error, ValueError):
        raise ValueError("a credential key is PEM or base64 DER") from None


@lru_cache(maxsize=16)
def _private_key(text: str) -> ec.EllipticCurvePrivateKey:
    data, pem = _key_bytes(text)
    try:
        key = (
            serialization.load_pem_private_key(data, None)
            if pem
            else serialization.load_der_private_key(data, None)
        )
    except (ValueError, TypeError):
        raise ValueError("a credential private key is not a readable PKCS#8 key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("a credential key is an EC key on P-256 (ES256)")
    return key


@lru_cache(maxsize=16)
def _public_key(text: str) -> ec.EllipticCurvePublicKey:
    data, pem = _key_bytes(text)
    try:
        key = (
            serialization.load_pem_public_key(data)
            if pem
            else serialization.load_der_public_key(data)
        )
    except (ValueError, TypeError):
        raise ValueError("a credential public key is not a readable SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("a credential key is an EC key on P-256 (ES256)")
    return key
