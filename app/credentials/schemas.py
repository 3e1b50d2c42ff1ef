"""What the credential endpoints answer and take, as the OpenAPI document describes it.

The Open Badges objects are JSON-LD documents defined by 1EdTech and the W3C, not by this API:
their schemas here name the main properties (every document also has `@context`) and their
examples are built by the same code that answers.
"""

from typing import Any

from app.awards.facts import Level
from app.awards.rules_document import DEFAULT_RULES
from app.credentials.achievements import OB_CONTEXT, CredentialUrls, achievement, issuer_profile
from app.credentials.keys import DEVELOPMENT_CREDENTIAL_KEY, CredentialKey

EXAMPLE_URLS = CredentialUrls("https://iqt.example.nhs.wales")
EXAMPLE_ISSUER = "NHS Wales Improving Quality Together (IQT)"

_URL = {"type": "string", "format": "uri", "maxLength": 2048}
_TEXT = {"type": "string", "maxLength": 4000}
_TYPES = {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 10}

PROFILE: dict[str, Any] = {
    "type": "object",
    "description": "An Open Badges 3.0 `Profile` (JSON-LD).",
    "required": ["id", "type", "name"],
    "properties": {"id": _URL, "type": _TYPES, "name": _TEXT, "url": _URL},
    "example": {"@context": OB_CONTEXT, **issuer_profile(EXAMPLE_URLS, EXAMPLE_ISSUER)},
}
ACHIEVEMENT: dict[str, Any] = {
    "type": "object",
    "description": "An Open Badges 3.0 `Achievement` (JSON-LD).",
    "required": ["id", "type", "name", "description", "criteria"],
    "properties": {
        "id": _URL,
        "type": _TYPES,
        "achievementType": {"type": "string", "maxLength": 100},
        "name": _TEXT,
        "description": _TEXT,
        "criteria": {"type": "object", "properties": {"narrative": _TEXT}},
        "image": {"type": "object", "properties": {"id": _URL, "type": _TEXT, "caption": _TEXT}},
        "creator": {"type": "object", "properties": PROFILE["properties"]},
        "inLanguage": {"type": "string", "maxLength": 20},
        "humanCode": {"type": "string", "maxLength": 20},
    },
    "example": {
        "@context": OB_CONTEXT,
        **achievement(EXAMPLE_URLS, EXAMPLE_ISSUER, Level.BRONZE, DEFAULT_RULES, 1),
    },
}

_EXAMPLE_JWK = CredentialKey(kid="2026-12", private_key=DEVELOPMENT_CREDENTIAL_KEY).public_jwk(
    EXAMPLE_URLS.key("2026-12")
)
_SHORT = {"type": "string", "maxLength": 200}
JWK: dict[str, Any] = {
    "type": "object",
    "description": "A public key (RFC 7517): an EC key on P-256, for ES256.",
    "required": ["kty", "crv", "x", "y", "kid", "alg"],
    "properties": {
        "kty": {"type": "string", "enum": ["EC"]},
        "crv": {"type": "string", "enum": ["P-256"]},
        "x": _SHORT,
        "y": _SHORT,
        "kid": _URL,
        "alg": {"type": "string", "enum": ["ES256"]},
        "use": {"type": "string", "enum": ["sig"]},
    },
    "example": _EXAMPLE_JWK,
}
JWKS: dict[str, Any] = {
    "type": "object",
    "description": "A JWK set (RFC 7517 §5).",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {k: v for k, v in JWK.items() if k != "example"},
            "maxItems": 100,
        }
    },
    "example": {"keys": [_EXAMPLE_JWK]},
}


def json_ld(schema: dict[str, Any], description: str = "The document.") -> dict[str, Any]:
    """A 200 response entry with this schema and its example."""
    body = {key: value for key, value in schema.items() if key != "example"}
    return {
        "description": description,
        "content": {"application/json": {"schema": body, "example": schema["example"]}},
    }
