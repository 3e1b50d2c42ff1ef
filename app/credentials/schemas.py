"""What the credential endpoints answer and take, as the OpenAPI document describes it.

The Open Badges objects are JSON-LD documents defined by 1EdTech and the W3C, not by this API:
their schemas here name the main properties (every document also has `@context`) and their
examples are built by the same code that answers.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.awards.facts import Level
from app.awards.rules_document import DEFAULT_RULES
from app.core.credential_keys import DEVELOPMENT_CREDENTIAL_KEY, CredentialKey
from app.core.schemas import ApiInput, ApiModel
from app.credentials.achievements import OB_CONTEXT, CredentialUrls, achievement, issuer_profile
from app.credentials.credential import CompletionEvidence, CredentialFacts, build_credential

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


_EXAMPLE_CREDENTIAL = build_credential(
    EXAMPLE_URLS,
    EXAMPLE_ISSUER,
    CredentialFacts(
        row_id=1,
        credential_uuid="0b6f3d52-3c1e-4f6a-9a57-2f4d1e8c9b10",
        subject_uuid="5c2a9e7d-81f4-4b0c-a3d6-7e1f2b9c4d58",
        salt="6f1c2b7e9a3d4c5b8e0f1a2b3c4d5e6f",
        work_email="rhian.evans@wales.nhs.uk",
        attained_at=datetime(2026, 3, 4, 10, 15, tzinfo=UTC),
        achievement=achievement(EXAMPLE_URLS, EXAMPLE_ISSUER, Level.BRONZE, DEFAULT_RULES, 1),
        completions=(
            CompletionEvidence("IQT Bronze e-learning", datetime(2026, 3, 4, 10, 15, tzinfo=UTC)),
        ),
    ),
    issued_at=datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
    validity=None,
)
# The example credential signed by the development key (ES256 signatures differ each time, so
# it is kept as signed once: the document stays the same).
_EXAMPLE_JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Imh0dHBzOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzL2NyZWRlbnRpYWxzL2tleX"
    "MvMjAyNi0xMiIsInR5cCI6IkpXVCJ9.eyJAY29udGV4dCI6WyJodHRwczovL3d3dy53My5vcmcvbnMvY3JlZGVudGl"
    "hbHMvdjIiLCJodHRwczovL3B1cmwuaW1zZ2xvYmFsLm9yZy9zcGVjL29iL3YzcDAvY29udGV4dC0zLjAuMy5qc29uI"
    "l0sImlkIjoidXJuOnV1aWQ6MGI2ZjNkNTItM2MxZS00ZjZhLTlhNTctMmY0ZDFlOGM5YjEwIiwidHlwZSI6WyJWZXJ"
    "pZmlhYmxlQ3JlZGVudGlhbCIsIk9wZW5CYWRnZUNyZWRlbnRpYWwiXSwibmFtZSI6IklRVCBCcm9uemUiLCJkZXNjc"
    "mlwdGlvbiI6IklRVCBCcm9uemUsIGFuIGF3YXJkIG9mIE5IUyBXYWxlcyBJbXByb3ZpbmcgUXVhbGl0eSBUb2dldGh"
    "lciAoSVFUKS4iLCJpc3N1ZXIiOnsiaWQiOiJodHRwczovL2lxdC5leGFtcGxlLm5ocy53YWxlcy9jcmVkZW50aWFsc"
    "y9pc3N1ZXIiLCJ0eXBlIjpbIlByb2ZpbGUiXSwibmFtZSI6Ik5IUyBXYWxlcyBJbXByb3ZpbmcgUXVhbGl0eSBUb2d"
    "ldGhlciAoSVFUKSIsInVybCI6Imh0dHBzOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzIn0sInZhbGlkRnJvbSI6IjIwM"
    "jYtMDMtMDRUMTA6MTU6MDBaIiwiYXdhcmRlZERhdGUiOiIyMDI2LTAzLTA0VDEwOjE1OjAwWiIsImNyZWRlbnRpYWx"
    "TdWJqZWN0Ijp7ImlkIjoidXJuOnV1aWQ6NWMyYTllN2QtODFmNC00YjBjLWEzZDYtN2UxZjJiOWM0ZDU4IiwidHlwZ"
    "SI6WyJBY2hpZXZlbWVudFN1YmplY3QiXSwiaWRlbnRpZmllciI6W3sidHlwZSI6IklkZW50aXR5T2JqZWN0IiwiaWR"
    "lbnRpdHlIYXNoIjoic2hhMjU2JGI2NzY1MmMwMzcxM2RjZWI1MmVlZTYxNWZiNTdjZTUwNzFhOGE4YWQ1ZGI4ZmRjM"
    "GIxOWJhMmMwNWEwODFjNmYiLCJpZGVudGl0eVR5cGUiOiJlbWFpbEFkZHJlc3MiLCJoYXNoZWQiOnRydWUsInNhbHQ"
    "iOiI2ZjFjMmI3ZTlhM2Q0YzViOGUwZjFhMmIzYzRkNWU2ZiJ9XSwiYWNoaWV2ZW1lbnQiOnsiaWQiOiJodHRwczovL"
    "2lxdC5leGFtcGxlLm5ocy53YWxlcy9jcmVkZW50aWFscy9hY2hpZXZlbWVudHMvYnJvbnplIiwidHlwZSI6WyJBY2h"
    "pZXZlbWVudCJdLCJhY2hpZXZlbWVudFR5cGUiOiJBd2FyZCIsIm5hbWUiOiJJUVQgQnJvbnplIiwiZGVzY3JpcHRpb"
    "24iOiJUaGUgZmlyc3QgbGV2ZWwgb2YgSW1wcm92aW5nIFF1YWxpdHkgVG9nZXRoZXIsIE5IUyBXYWxlcycgcXVhbGl"
    "0eSBpbXByb3ZlbWVudCBwcm9ncmFtbWU6IHRoZSBob2xkZXIgaGFzIGNvbXBsZXRlZCB0aGUgSVFUIHRyYWluaW5nI"
    "GluIHRoZSBwcmluY2lwbGVzIGFuZCB0b29scyBvZiBxdWFsaXR5IGltcHJvdmVtZW50LiIsImNyaXRlcmlhIjp7Im5"
    "hcnJhdGl2ZSI6IkNvbXBsZXRlIDEgY291cnNlIGZyb20gdGhlIGNvdXJzZXMgdGhlIElRVCBjYXRhbG9ndWUgY291b"
    "nRzIHRvd2FyZHMgQnJvbnplICh0aGUgSVFUIHRyYWluaW5nKSwgd2l0aCBhIHBhc3MgYW5kIHRoZSBtaW5pbXVtIHN"
    "jb3JlIHdoZXJlIHRoZSBjb3Vyc2Ugc2V0cyB0aGVtLlxuXG5VbmRlciB2ZXJzaW9uIDEgb2YgdGhlIElRVCBhd2FyZ"
    "CBydWxlcy4ifSwiaW1hZ2UiOnsiaWQiOiJkYXRhOmltYWdlL3N2Zyt4bWw7YmFzZTY0LFBITjJaeUI0Yld4dWN6MGl"
    "hSFIwY0RvdkwzZDNkeTUzTXk1dmNtY3ZNakF3TUM5emRtY2lJSGRwWkhSb1BTSXlNREFpSUdobGFXZG9kRDBpTWpBd"
    "0lpQjJhV1YzUW05NFBTSXdJREFnTWpBd0lESXdNQ0krUEdOcGNtTnNaU0JqZUQwaU1UQXdJaUJqZVQwaU1UQXdJaUJ"
    "5UFNJNU1pSWdabWxzYkQwaUkyRXdOalF6WXlJZ2MzUnliMnRsUFNJak1XVXpZelZoSWlCemRISnZhMlV0ZDJsa2RHZ"
    "zlJamdpTHo0OGRHVjRkQ0I0UFNJeE1EQWlJSGs5SWpreUlpQm1iMjUwTFdaaGJXbHNlVDBpYzJGdWN5MXpaWEpwWml"
    "JZ1ptOXVkQzF6YVhwbFBTSTBNQ0lnZEdWNGRDMWhibU5vYjNJOUltMXBaR1JzWlNJZ1ptbHNiRDBpSTJabVppSStTV"
    "kZVUEM5MFpYaDBQangwWlhoMElIZzlJakV3TUNJZ2VUMGlNVE15SWlCbWIyNTBMV1poYldsc2VUMGljMkZ1Y3kxelp"
    "YSnBaaUlnWm05dWRDMXphWHBsUFNJeU5DSWdkR1Y0ZEMxaGJtTm9iM0k5SW0xcFpHUnNaU0lnWm1sc2JEMGlJMlptW"
    "mlJK1FuSnZibnBsUEM5MFpYaDBQand2YzNablBnPT0iLCJ0eXBlIjoiSW1hZ2UiLCJjYXB0aW9uIjoiVGhlIElRVCB"
    "Ccm9uemUgYmFkZ2UifSwiY3JlYXRvciI6eyJpZCI6Imh0dHBzOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzL2NyZWRlb"
    "nRpYWxzL2lzc3VlciIsInR5cGUiOlsiUHJvZmlsZSJdLCJuYW1lIjoiTkhTIFdhbGVzIEltcHJvdmluZyBRdWFsaXR"
    "5IFRvZ2V0aGVyIChJUVQpIiwidXJsIjoiaHR0cHM6Ly9pcXQuZXhhbXBsZS5uaHMud2FsZXMifSwiaW5MYW5ndWFnZ"
    "SI6ImVuLUdCIiwiaHVtYW5Db2RlIjoiSVFULUJST05aRSJ9fSwiY3JlZGVudGlhbFN0YXR1cyI6eyJpZCI6Imh0dHB"
    "zOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzL2NyZWRlbnRpYWxzL3N0YXR1c0xpc3RzLzEjMCIsInR5cGUiOiJCaXRzd"
    "HJpbmdTdGF0dXNMaXN0RW50cnkiLCJzdGF0dXNQdXJwb3NlIjoicmV2b2NhdGlvbiIsInN0YXR1c0xpc3RJbmRleCI"
    "6IjAiLCJzdGF0dXNMaXN0Q3JlZGVudGlhbCI6Imh0dHBzOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzL2NyZWRlbnRpY"
    "WxzL3N0YXR1c0xpc3RzLzEifSwiZXZpZGVuY2UiOlt7InR5cGUiOlsiRXZpZGVuY2UiXSwibmFtZSI6IklRVCBCcm9"
    "uemUgZS1sZWFybmluZyIsImRlc2NyaXB0aW9uIjoiQ29tcGxldGVkIHRoZSBjb3Vyc2Ugb24gMjAyNi0wMy0wNC4iL"
    "CJnZW5yZSI6IkNvdXJzZSBjb21wbGV0aW9uIn1dLCJpc3MiOiJodHRwczovL2lxdC5leGFtcGxlLm5ocy53YWxlcy9"
    "jcmVkZW50aWFscy9pc3N1ZXIiLCJqdGkiOiJ1cm46dXVpZDowYjZmM2Q1Mi0zYzFlLTRmNmEtOWE1Ny0yZjRkMWU4Y"
    "zliMTAiLCJzdWIiOiJ1cm46dXVpZDo1YzJhOWU3ZC04MWY0LTRiMGMtYTNkNi03ZTFmMmI5YzRkNTgiLCJuYmYiOjE"
    "3NzI2MTkzMDAsImlhdCI6MTc5NjU0NzYwMH0.UjOpfImDN19pxhxCbvCgf8eSG1PFQARrmQq2Cejc1obZtM922ZlQw"
    "M_nynhsWXZvZiVfIjFCEBgzConKSCKHFw"
)


class IssuedCredential(ApiModel):
    """An award's Open Badges credential: to hand to the earner, and to read."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"credentialJwt": _EXAMPLE_JWT, "credential": _EXAMPLE_CREDENTIAL}
        }
    )

    credential_jwt: str = Field(
        max_length=100_000,
        description="The signed credential (VC-JWT, a compact JWS): what the earner keeps in "
        "a wallet and shows to a verifier.",
    )
    credential: dict[str, Any] = Field(
        description="The OpenBadgeCredential the JWT carries (its payload without the JWT "
        "claims), for reading."
    )


class VerificationRequest(ApiInput):
    """A credential to verify."""

    model_config = ConfigDict(json_schema_extra={"example": {"credential": _EXAMPLE_JWT}})

    credential: str = Field(
        min_length=1,
        max_length=100_000,
        description="The credential as issued: a VC-JWT (compact JWS).",
    )


class VerificationFailure(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknownKey"
    SIGNATURE = "signature"
    CLAIMS = "claims"
    NOT_YET_VALID = "notYetValid"
    EXPIRED = "expired"
    NOT_ISSUED = "notIssued"
    REVOKED = "revoked"


class VerificationResult(ApiModel):
    """Whether the credential verifies and, if not, the first check it failed."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "verified": False,
                "failure": "revoked",
                "detail": "The credential has been revoked.",
                "credential": _EXAMPLE_CREDENTIAL,
            }
        }
    )

    verified: bool
    failure: VerificationFailure | None = Field(
        description="The first check that failed: malformed (not a VC-JWT), unknownKey (its "
        "header names no key of this service), signature, claims (the JWT claims do not repeat "
        "the credential), notYetValid, expired, notIssued (signed by this service's key but "
        "never issued by it), revoked; null when verified."
    )
    detail: str = Field(max_length=500)
    credential: dict[str, Any] | None = Field(
        description="The credential the JWT carries, once its signature holds."
    )


STATUS_LIST_EXAMPLE = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Imh0dHBzOi8vaXF0LmV4YW1wbGUubmhzLndhbGVzL2NyZWRlbnRpYWxzL2tleXMv"
    "MjAyNi0xMiIsInR5cCI6InZjK2p3dCJ9.eyJAY29udGV4dCI6WyJodHRwczovL3d3dy53My5vcmcvbnMvY3JlZGVudGlh"
    "bHMvdjIiXX0.c2lnbmF0dXJl"
)
