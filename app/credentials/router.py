"""Open Badges 3.0: the public issuer, achievements and keys; credentials of awards."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from app.awards.facts import Level
from app.core.database import SessionDep
from app.core.openapi import problem_responses
from app.credentials import schemas, service
from app.credentials.achievements import CredentialUrls

router = APIRouter(tags=["Open Badges"])

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
