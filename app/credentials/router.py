"""Open Badges 3.0: the public issuer, achievements and keys; credentials of awards."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.awards.facts import Level
from app.awards.router import AwardIdPath
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.credentials import schemas, service
from app.credentials.achievements import CredentialUrls
from app.ratelimits.service import enforce_public_rate_limit

router = APIRouter(route_class=SessionRoute, tags=["Open Badges"])

KidPath = Annotated[
    str,
    Path(
        alias="kid",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="The key's name in IQT_CREDENTIAL_SIGNING_KEYS.",
        examples=["2026-12"],
    ),
]
NumberPath = Annotated[
    int, Path(alias="number", ge=1, le=2**31 - 1, description="Status list number.", examples=[1])
]
VC_JWT = "application/vc+jwt"
LevelPath = Annotated[Level, Path(alias="level", description="Award level.", examples=["bronze"])]


def credential_urls(request: Request) -> CredentialUrls:
    """The public URLs, under IQT_PUBLIC_BASE_URL (else the URL this request came to)."""
    settings = request.app.state.settings
    return CredentialUrls(settings.public_base_url or str(request.base_url).rstrip("/"))


def _json(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse(content, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/credentials/issuer",
    summary="The issuer of IQT credentials",
    response_class=JSONResponse,
    responses={200: schemas.json_ld(schemas.PROFILE), **problem_responses(400, 500)},
)
async def get_credential_issuer(request: Request) -> JSONResponse:
    """The Open Badges 3.0 `Profile` that issues IQT credentials; its `id` is this URL. Public:
    no authentication."""
    settings = request.app.state.settings
    return _json(service.issuer_document(credential_urls(request), settings))


@router.get(
    "/credentials/achievements/{level}",
    summary="An IQT award level as an Open Badges achievement",
    response_class=JSONResponse,
    responses={200: schemas.json_ld(schemas.ACHIEVEMENT), **problem_responses(400, 422, 500, 503)},
)
async def get_achievement(level: LevelPath, request: Request, session: SessionDep) -> JSONResponse:
    """The Open Badges 3.0 `Achievement` of Bronze, Silver or Gold: name, description, image,
    the issuer as `creator`, and criteria in words from the current award rules. Its `id` is
    this URL, which every credential of the level names. Public: no authentication."""
    settings = request.app.state.settings
    return _json(
        await service.achievement_document(session, credential_urls(request), settings, level)
    )


@router.get(
    "/.well-known/jwks.json",
    summary="The public keys of IQT credentials (JWK set)",
    response_class=JSONResponse,
    responses={200: schemas.json_ld(schemas.JWKS, "The JWK set."), **problem_responses(400, 500)},
)
async def get_credential_keys(request: Request) -> JSONResponse:
    """Every public key that signs or signed IQT credentials, as a JWK set (RFC 7517): the
    current signing key first, then the keys rotated out, kept so that earlier credentials
    still verify. Each key's `kid` is the URL of the key alone, which credential headers
    name. Public: no authentication."""
    settings = request.app.state.settings
    return _json(service.key_set(credential_urls(request), settings))


@router.get(
    "/credentials/keys/{kid}",
    summary="One public key of IQT credentials (JWK)",
    response_class=JSONResponse,
    responses={
        200: schemas.json_ld(schemas.JWK, "The public key."),
        **problem_responses(400, 404, 422, 500),
    },
)
async def get_credential_key(kid: KidPath, request: Request) -> JSONResponse:
    """The public key a credential's JWS header names in its `kid` (this URL), as a JWK;
    404 for a key the service does not hold. Public: no authentication."""
    settings = request.app.state.settings
    return _json(service.public_key(credential_urls(request), settings, kid))


@router.get(
    "/awards/{awardId}/credential",
    summary="Issue an award as an Open Badges credential",
    response_model=schemas.IssuedCredential,
    responses=problem_responses(*AUTHENTICATED, 404, 409, 422),
)
async def get_award_credential(
    award_id: AwardIdPath,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> schemas.IssuedCredential:
    """The active award as a signed Open Badges 3.0 `OpenBadgeCredential` (VC-JWT, ES256),
    with the credential it carries. The earner is named by a salted SHA-256 hash of their work
    e-mail address, never by the address; `validFrom` and `awardedDate` are when the award was
    attained. One credential per award: it is made the first time it is asked for (event
    `credentialIssued`) and every later copy says the same, signed afresh. Revoking the award
    revokes it in its status list. 409 for a revoked award or a holder with no work e-mail
    address. A client limited to some organisations sees its own staff's awards only."""
    issued = await service.issue_credential(
        session, caller, request.app.state.settings, credential_urls(request), award_id
    )
    return schemas.IssuedCredential(credential_jwt=issued.token, credential=issued.credential)


@router.get(
    "/credentials/statusLists/{number}",
    summary="A revocation status list of IQT credentials",
    response_class=Response,
    responses={
        200: {
            "description": "The signed `BitstringStatusListCredential` (VC-JWT).",
            "content": {
                VC_JWT: {
                    "schema": {"type": "string", "maxLength": 100_000},
                    "example": schemas.STATUS_LIST_EXAMPLE,
                }
            },
        },
        **problem_responses(400, 404, 422, 429, 500, 503),
    },
    dependencies=[Depends(enforce_public_rate_limit)],
)
async def get_status_list(number: NumberPath, request: Request, session: SessionDep) -> Response:
    """A W3C Bitstring Status List (statusPurpose `revocation`) as a signed VC-JWT: each
    credential's `credentialStatus` names its list and index, whose bit is set once its award
    is revoked. 131,072 credentials a list. Built as of the request. Public: no
    authentication."""
    token = await service.status_list_jwt(
        session, request.app.state.settings, credential_urls(request), number
    )
    return Response(token, media_type=VC_JWT, headers={"Cache-Control": "public, max-age=60"})


@router.post(
    "/credentials/verify",
    summary="Verify an IQT credential",
    response_model=schemas.VerificationResult,
    responses=problem_responses(400, 413, 415, 422, 429, 500, 503),
    dependencies=[Depends(enforce_public_rate_limit)],
)
async def verify_credential(
    body: schemas.VerificationRequest, request: Request, session: SessionDep
) -> schemas.VerificationResult:
    """Checks a credential this service issued, as any verifier can with the JWK set and the
    status list: the ES256 signature with the key its header names (rotated-out keys too),
    that the JWT claims repeat the credential, that it is valid now (`validFrom`,
    `validUntil`), and that it was issued here and its award is not revoked. Answers 200 with
    `verified` and, when false, the first check that failed. Public: no authentication."""
    found = await service.verify_credential(session, request.app.state.settings, body.credential)
    return schemas.VerificationResult(
        verified=found.verified,
        failure=None if found.failure is None else schemas.VerificationFailure(found.failure),
        detail=found.detail,
        credential=found.credential,
    )
