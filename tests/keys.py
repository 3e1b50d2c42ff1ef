"""Credential signing keys for tests: fresh P-256 keys, as IQT_CREDENTIAL_SIGNING_KEYS takes."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.core.credential_keys import CredentialKey


def new_private_key() -> str:
    """A new P-256 private key: base64 PKCS#8 DER."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return base64.b64encode(der).decode()


def public_pem(private_key: str) -> str:
    """The public key of a private key of ``new_private_key``, as PEM."""
    key = CredentialKey(kid="k", private_key=private_key).verifying_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


PRODUCTION_CREDENTIAL_KEY = new_private_key()
# IQT_CREDENTIAL_SIGNING_KEYS for a production service in tests.
PRODUCTION_CREDENTIAL_KEYS = f"production:{PRODUCTION_CREDENTIAL_KEY}"
