"""Event Management v3 routes (§6).

Gap choices: POST /events and POST /eventTypes answer 201; event-type updates are accepted as
PATCH and, as the Node SDK sends them, PUT; DELETE answers 204. ``size`` defaults to 20; the
default sort is ``timestamp,desc``.

Rule: ``size`` is at most 100 (§0, N:sdk/event/event-management.ts ``GetEvents``, from the
spec); a larger one answers 400. QX's 500 is wrong.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...paging import filtered_page, page_params, sort_items, spring_page
from ...responses import json_response
from ...wire import base_url, etag_write, if_match, query_bool, read_json, single

PREFIX = "/api/eventmanagement/v3"
router = APIRouter(prefix=PREFIX)
CREATE_STATUS = 201  # gap (§11)
DEFAULT_SIZE = 20
MAX_SIZE = 100  # §0


def _event(request: Request, event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "_links": {"self": {"href": f"{base_url(request)}{PREFIX}/events/{event['id']}"}}}


def _event_type(request: Request, t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "_links": {"self": {"href": f"{base_url(request)}{PREFIX}/eventTypes/{t['id']}"}}}


@router.post("/events")
async def create_event(request: Request) -> Response:
    """Create an event."""
    events = authorized_backend(request, "em.w").events
    event = events.create_event(await read_json(request))
    return single(request, event, _event(request, event), CREATE_STATUS)


@router.get("/events")
async def list_events(request: Request) -> Response:
    """Search events (filter, paging, sort, history)."""
    events = authorized_backend(request, "em.r").events
    page, size = page_params(request, DEFAULT_SIZE, MAX_SIZE)
    found = events.search(request.query_params.get("filter"), query_bool(request, "history"))
    items = sort_items(found, request.query_params.get("sort"), "timestamp", default_desc=True)
    return json_response(spring_page(request, items, page, size, "events", lambda e: _event(request, e)))


@router.get("/events/{event_id}")
async def get_event(request: Request, event_id: str) -> Response:
    """Return one event."""
    event = authorized_backend(request, "em.r").events.get_event(event_id)
    return single(request, event, _event(request, event))


@router.put("/events/{event_id}")
async def update_event(request: Request, event_id: str) -> Response:
    """Correct an event (``If-Match`` with the integer etag)."""
    events = authorized_backend(request, "em.w").events
    return await etag_write(request, partial(events.update_event, event_id), _event)


@router.post("/eventTypes")
async def create_event_type(request: Request) -> Response:
    """Create an event type."""
    events = authorized_backend(request, "em.w").events
    t = events.create_type(await read_json(request))
    return single(request, t, _event_type(request, t), CREATE_STATUS)


@router.get("/eventTypes")
async def list_event_types(request: Request) -> Response:
    """List event types (filter, paging, sort)."""
    events = authorized_backend(request, "em.r").events
    body = filtered_page(
        request,
        "eventTypes",
        DEFAULT_SIZE,
        events.types.values,
        max_size=MAX_SIZE,
        render=lambda t: _event_type(request, t),
    )
    return json_response(body)


@router.get("/eventTypes/{type_id}")
async def get_event_type(request: Request, type_id: str) -> Response:
    """Return one event type."""
    t = authorized_backend(request, "em.r").events.get_type(type_id)
    return single(request, t, _event_type(request, t))


@router.api_route("/eventTypes/{type_id}", methods=["PATCH", "PUT"])
async def patch_event_type(request: Request, type_id: str) -> Response:
    """Update an event type with JSON-patch operations (``If-Match`` required)."""
    events = authorized_backend(request, "em.w").events
    return await etag_write(request, partial(events.patch_type, type_id), _event_type)


@router.delete("/eventTypes/{type_id}")
async def delete_event_type(request: Request, type_id: str) -> Response:
    """Delete a custom event type (``If-Match`` required)."""
    events = authorized_backend(request, "em.w").events
    events.delete_type(type_id, if_match(request))
    return Response(status_code=204)
