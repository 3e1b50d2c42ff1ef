"""The Pydantic models of request and response bodies, found by walking the route table."""

import typing
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.openapi import EXTRA_SCHEMAS
from tests.security.routes import Operation, operations

# Form fields of the OAuth2 token request (RFC 6749: unknown parameters are ignored).
FORM_BODIES = {("POST", "/oauth2/token")}


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models an annotation mentions, nested ones included, each once."""
    seen: set[type[BaseModel]] = set()

    def walk(item: Any) -> Iterator[type[BaseModel]]:
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in seen:
                return
            seen.add(item)
            yield item
            for field in item.model_fields.values():
                yield from walk(field.annotation)
        for argument in typing.get_args(item):
            yield from walk(argument)

    yield from walk(annotation)


def request_body_model(route: APIRoute) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    return next(models_in(route.body_field.field_info.annotation), None)


def json_bodies(app: FastAPI) -> dict[Operation, type[BaseModel]]:
    """The body model of every operation whose JSON body FastAPI reads."""
    found = {}
    for operation, route in operations(app).items():
        model = request_body_model(route)
        if model is not None and operation not in FORM_BODIES:
            found[operation] = model
    return found


def request_models(app: FastAPI) -> set[type[BaseModel]]:
    """Every model a request body is read into, those of bodies read by hand included."""
    roots: list[Any] = [*json_bodies(app).values(), *EXTRA_SCHEMAS]
    return {model for root in roots for model in models_in(root)}


def wire_names(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}
