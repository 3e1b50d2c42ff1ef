from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import Link
from app.events import service
from app.events.schemas import EventFeed, EventFeedMeta, EventRead
from app.events.service import FeedPosition

router = APIRouter(route_class=SessionRoute, tags=["Events"])


@router.get(
    "/events",
    summary="Follow the event feed",
    response_model=EventFeed,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_events(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.EVENTS_READ)],
    after: Annotated[
        str | None,
        Query(max_length=50, description="Cursor of the last event processed; omit to start."),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=1000, description="Comma-separated event types.", examples=["awardGranted"]
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Events per call.")] = 100,
) -> EventFeed:
    """Events in commit-safe order: poll with the `after` cursor of the last answer and no event
    is ever missed, even one whose transaction committed late. Events of transactions still
    running are held back until they finish. A client limited to some organisations sees
    their organisations' events and the events of its own unmatched completions, not other
    platforms'."""
    position = FeedPosition.parse(after) if after else None
    type_list = [t for t in (types or "").split(",") if t]
    events = await service.read_feed(session, caller, position, type_list, limit)
    data = [
        EventRead(
            id=e.id,
            cursor=FeedPosition(e.transaction_id, e.id).token(),
            type=e.type,
            occurred_at=e.occurred_at,
            resource_type=e.resource_type,
            resource_id=e.resource_id,
            organisation=e.organisation_ods_code,
            client_id=e.client_id,
            data=e.data,
        )
        for e in events
    ]
    resume = data[-1].cursor if data else after
    links = [Link(rel="self", href=str(request.url))]
    if resume:
        links.append(Link(rel="next", href=str(request.url.include_query_params(after=resume))))
    return EventFeed(data=data, links=links, meta=EventFeedMeta(count=len(data), after=resume))
