"""The application's route table, as (method, path template) pairs, for tests that must cover
every operation: a new route without a case of its own makes them fail."""

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

Operation = tuple[str, str]


def operations(app: FastAPI) -> dict[Operation, APIRoute]:
    found: dict[Operation, APIRoute] = {}
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                found[(method, context.path_format)] = route
    return found


def with_an_id_in_the_path(app: FastAPI) -> set[Operation]:
    return {operation for operation in operations(app) if "{" in operation[1]}
