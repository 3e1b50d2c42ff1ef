"""The application's routes as the tests look at them: every API route, included routers
walked, and whether a route uses the request's database session."""

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.database import get_session


def api_routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router
            found += api_routes(route.original_router.routes)
    return found


def uses_session(dependant: Dependant) -> bool:
    return dependant.call is get_session or any(map(uses_session, dependant.dependencies))
