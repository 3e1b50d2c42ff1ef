"""Cursor paging: opaque, signed page tokens over a stable keyset order."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.problems import BadRequest
from app.core.schemas import FREE_TEXT_MAX_LENGTH, LIST_MAX_ITEMS, ApiModel

T = TypeVar("T")


class Link(BaseModel):
    rel: str = Field(description="`self` or `next`.", examples=["next"], max_length=20)
    href: str = Field(max_length=FREE_TEXT_MAX_LENGTH)


class PageMeta(ApiModel):
    page_size: int
    count: int = Field(description="Number of items in this page.")


class Page(ApiModel, Generic[T]):
    data: list[T] = Field(max_length=LIST_MAX_ITEMS)
    links: list[Link] = Field(
        max_length=2, description="`self`, and `next` unless this is the last page."
    )
    meta: PageMeta


@dataclass(frozen=True)
class PageRequest:
    size: int
    after: tuple[Any, ...] | None
    collection: str
    serializer: URLSafeSerializer

    def token_for(self, keys: Sequence[Any]) -> str:
        return str(self.serializer.dumps({"c": self.collection, "k": list(keys)}))


def page_request(collection: str) -> Any:
    """A dependency reading ``pageSize`` and ``pageToken`` for one collection."""

    def dependency(
        request: Request,
        pageSize: Annotated[  # noqa: N803 - the wire name
            int | None,
            Query(
                description="Items per page (default 100, maximum 1000).",
                examples=[100],
                json_schema_extra={"minimum": 1, "maximum": 1000},
            ),
        ] = None,
        pageToken: Annotated[  # noqa: N803
            str | None,
            Query(
                max_length=2000,
                description="Opaque token from a `next` link; do not build it yourself.",
            ),
        ] = None,
    ) -> PageRequest:
        settings = request.app.state.settings
        size = settings.default_page_size if pageSize is None else pageSize
        if not 1 <= size <= settings.max_page_size:
            raise BadRequest(
                f"pageSize must be between 1 and {settings.max_page_size}.",
                invalid_params=[("pageSize", f"Must be between 1 and {settings.max_page_size}.")],
            )
        serializer = URLSafeSerializer(settings.token_signing_key, salt="iqt.page-token")
        after = None
        if pageToken is not None:
            try:
                payload = serializer.loads(pageToken)
            except BadSignature:
                payload = None
            if not isinstance(payload, dict) or payload.get("c") != collection:
                raise BadRequest(
                    "pageToken is not valid: use the href of a `next` link unchanged.",
                    invalid_params=[("pageToken", "Not a token this service issued.")],
                )
            after = tuple(payload["k"])
        return PageRequest(size=size, after=after, collection=collection, serializer=serializer)

    return Depends(dependency)


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def keyset(
    query: SelectT, order: Sequence[InstrumentedAttribute[Any]], page: PageRequest
) -> SelectT:
    """Orders by the key columns and starts after the page token's keys; fetches one extra."""
    query = query.order_by(*order)
    if page.after is not None:
        query = query.where(tuple_(*order) > tuple_(*page.after))
    return query.limit(page.size + 1)


@dataclass
class PageResult(Generic[T]):
    items: list[T]
    next_token: str | None


def page_of(rows: Sequence[T], page: PageRequest, key: Any) -> PageResult[T]:
    """Cuts the extra row and makes the token that resumes after the last one."""
    items = list(rows[: page.size])
    next_token = page.token_for(key(items[-1])) if len(rows) > page.size and items else None
    return PageResult(items=items, next_token=next_token)


def page_links(request: Request, next_token: str | None) -> list[Link]:
    links = [Link(rel="self", href=str(request.url))]
    if next_token is not None:
        links.append(
            Link(rel="next", href=str(request.url.include_query_params(pageToken=next_token)))
        )
    return links


P = TypeVar("P", bound=Page[Any])


def build_page(
    page_model: type[P],
    item_model: type[ApiModel],
    request: Request,
    page: PageRequest,
    result: PageResult[Any],
) -> P:
    """The response body for one page: items, self/next links, and meta."""
    return page_model(
        data=[item_model.model_validate(item) for item in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )
