"""How requests find their route: the busiest writes and reads first, each domain's routes one
include below the application (every level of included routers is matched again on every
request)."""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.security import OAuth2

from app.auth.dependencies import authenticator
from app.auth.scopes import Scope
from app.completions.router import router as completions_router
from app.core.database import get_session
from tests.routes import api_routes


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


def test_the_dashboards_uptake_read_is_tried_before_the_rarely_called_routes(
    app: FastAPI,
) -> None:
    """Each route before a request's own costs it a match (about 2 µs): ``GET /uptake``, which
    every dashboard polls, comes after the busiest writes only, not after the xAPI documents,
    staff, projects, awards and credentials (it came 71st)."""
    order = [(route.path, method) for route in api_routes(app.routes) for method in route.methods]
    position = order.index(("/uptake", "GET"))
    before = {path.split("/")[1] for path, _ in order[:position]}
    assert before <= {"completions", "completionBatches", "xapi"}, before
    assert order.index(("/events", "GET")) < order.index(("/staff", "GET"))


def test_authentication_is_one_dependency_documented_as_the_oauth2_scheme() -> None:
    """Reading the Authorization header is part of authenticating: one dependency to solve on
    every request, which FastAPI still documents as the OAuth2 scheme with its scopes."""
    (route,) = (
        r
        for r in completions_router.routes
        if isinstance(r, APIRoute) and r.path == "/completions" and "POST" in (r.methods or ())
    )
    (auth,) = (d for d in route.dependant.dependencies if d.call is authenticator)
    assert isinstance(auth.call, OAuth2)
    assert auth.own_oauth_scopes == [str(Scope.COMPLETIONS_WRITE)]
    assert [d.call for d in auth.dependencies] == [get_session]
