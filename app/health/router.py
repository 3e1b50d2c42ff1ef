from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from app import __version__
from app.core.database import SessionRoute
from app.core.openapi import problem_responses
from app.core.problem_handlers import database_unavailable
from app.core.problems import ServiceUnavailable
from app.core.schemas import ApiModel
from app.health import service

router = APIRouter(route_class=SessionRoute, tags=["Health"])


class Ping(ApiModel):
    status: Annotated[str, Field(examples=["ok"])]
    version: Annotated[str, Field(examples=["1.0.0"])]
    commit: str | None = None


class Status(ApiModel):
    status: Annotated[str, Field(examples=["ok"])]
    database: Annotated[str, Field(examples=["ok"])]
    migration: Annotated[str | None, Field(description="Current Alembic revision.")]


@router.get("/_ping", summary="Liveness", response_model=Ping, responses=problem_responses(500))
async def ping(request: Request) -> Ping:
    """Answers while the process runs; does not touch the database."""
    return Ping(status="ok", version=__version__, commit=request.app.state.settings.commit_sha)


@router.get(
    "/_status",
    summary="Readiness",
    response_model=Status,
    responses=problem_responses(500, 503),
)
async def status(request: Request) -> Status:
    """Ready when the database answers and its schema is at the latest migration; else 503."""
    try:
        revision = await service.current_revision(request.app.state.engine)
    except Exception:
        raise database_unavailable("The database is not reachable.") from None
    if revision != service.head_revision():
        raise ServiceUnavailable(
            f"The database schema is at {revision}, not at the latest migration "
            f"{service.head_revision()}: run `iqt migrate`."
        )
    return Status(status="ok", database="ok", migration=revision)
