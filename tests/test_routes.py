"""How requests find their route: the busiest writes first, each domain's routes one include
below the application (every level of included routers is matched again on every request)."""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.completions.router import router as completions_router


def _included(router: APIRouter) -> list[APIRouter]:
    """The routers included directly in this one, in matching order."""
    return [r.original_router for r in router.routes if hasattr(r, "original_router")]


def test_completions_are_matched_first_and_one_include_deep(app: FastAPI) -> None:
    included = _included(app.router)
    assert included[0] is completions_router
    assert all(isinstance(route, APIRoute) for route in completions_router.routes)
    paths = {
        (route.path, method) for route in completions_router.routes for method in route.methods
    }
    assert ("/completions", "POST") in paths
