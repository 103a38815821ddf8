"""Event Management v3 routes (§6).

Events and event types each have a POST that creates one, a GET of one (``If-None-Match`` gives
304) and an update guarded by ``If-Match``: an event is corrected with PUT (the integer etag), an
event type changed with JSON-patch operations.

Gap choices: POST /events and POST /eventTypes answer 201; event-type updates are accepted as
PATCH and, as the Node SDK sends them, PUT; DELETE answers 204. ``size`` defaults to 20; the
default sort is ``timestamp,desc``.

Rule: ``size`` is at most 100 (§0, N:sdk/event/event-management.ts ``GetEvents``, from the
spec); a larger one answers 400. QX's 500 is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...paging import filtered_page, page_params, parse_sort, sort_items, spring_page
from ...responses import json_response
from ...wire import base_url, etag_write, if_match, query_bool, read_json, single
from .filter_rules import check_filterable
from .models import EventBackend

PREFIX = "/api/eventmanagement/v3"
router = APIRouter(prefix=PREFIX)
CREATE_STATUS = 201  # gap (§11)
DEFAULT_SIZE = 20
MAX_SIZE = 100  # §0


def _event(request: Request, event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "_links": {"self": {"href": f"{base_url(request)}{PREFIX}/events/{event['id']}"}}}


def _event_type(request: Request, t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "_links": {"self": {"href": f"{base_url(request)}{PREFIX}/eventTypes/{t['id']}"}}}


def _add_event_kind_routes(
    path: str,
    id_name: str,
    create: Callable[[EventBackend, Any], dict[str, Any]],
    get: Callable[[EventBackend, str], dict[str, Any]],
    update: Callable[[EventBackend, str, Any, str | None], dict[str, Any]],
    update_methods: list[str],
    render: Callable[[Request, dict[str, Any]], dict[str, Any]],
) -> None:
    """Register the POST (create), GET-one and update routes of events or event types.

    :param path: the collection's path, ``/events`` or ``/eventTypes``
    :param id_name: the id's path parameter, ``event_id`` or ``type_id`` (it names the route in the
        call counters of ``/_emulator/stats``)
    :param create: ``(events, body) -> created``
    :param get: ``(events, id) -> stored`` (404 when unknown)
    :param update: ``(events, id, body, if_match) -> updated``
    :param update_methods: the update's HTTP methods
    :param render: the wire form
    """

    async def create_one(request: Request) -> Response:
        events = authorized_backend(request, "em.w").events
        created = create(events, await read_json(request))
        return single(request, created, render(request, created), CREATE_STATUS)

    async def get_one(request: Request) -> Response:
        stored = get(authorized_backend(request, "em.r").events, request.path_params[id_name])
        return single(request, stored, render(request, stored))

    async def update_one(request: Request) -> Response:
        events = authorized_backend(request, "em.w").events
        return await etag_write(request, partial(update, events, request.path_params[id_name]), render)

    router.add_api_route(path, create_one, methods=["POST"])
    router.add_api_route(f"{path}/{{{id_name}}}", get_one, methods=["GET"])
    router.add_api_route(f"{path}/{{{id_name}}}", update_one, methods=update_methods)


_add_event_kind_routes(
    "/events", "event_id", EventBackend.create_event, EventBackend.get_event, EventBackend.update_event, ["PUT"], _event
)
_add_event_kind_routes(
    "/eventTypes",
    "type_id",
    EventBackend.create_type,
    EventBackend.get_type,
    EventBackend.patch_type,
    ["PATCH", "PUT"],
    _event_type,
)


@router.get("/events")
async def list_events(request: Request) -> Response:
    """Search events (filter, paging, sort, history)."""
    events = authorized_backend(request, "em.r").events
    page, size = page_params(request, DEFAULT_SIZE, MAX_SIZE)
    sort = request.query_params.get("sort")
    # N:sdk/event/event-management.ts GetEvents: sort is "supported only on filterable fields".
    check_filterable({parse_sort(sort, "timestamp")[0]}, events.types.values(), "sort")
    found = events.search(request.query_params.get("filter"), query_bool(request, "history"))
    items = sort_items(found, sort, "timestamp", default_desc=True)
    return json_response(spring_page(request, items, page, size, "events", _event))


@router.get("/eventTypes")
async def list_event_types(request: Request) -> Response:
    """List event types (filter, paging, sort)."""
    events = authorized_backend(request, "em.r").events
    body = filtered_page(
        request, "eventTypes", DEFAULT_SIZE, events.types.values, max_size=MAX_SIZE, render=_event_type
    )
    return json_response(body)


@router.delete("/eventTypes/{type_id}")
async def delete_event_type(request: Request, type_id: str) -> Response:
    """Delete a custom event type (``If-Match`` required)."""
    events = authorized_backend(request, "em.w").events
    events.delete_type(type_id, if_match(request))
    return Response(status_code=204)
