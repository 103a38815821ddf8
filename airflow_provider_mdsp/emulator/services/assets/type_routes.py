"""Asset Management v3 routes for asset types and aspect types (§3).

PUT creates (201) or replaces (200, ``If-Match`` required); ``If-None-Match: *`` makes it
create-only. DELETE answers 204. ``exploded=true`` on asset types adds what parent types
contribute.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...errors import json_response
from ...filters import compile_filter
from ...paging import page_params, sort_items, spring_page
from ...wire import base_url, etag_value, query_bool, read_json, single
from .routes import DEFAULT_PAGE_SIZE, PREFIX

router = APIRouter(prefix=PREFIX)


def _links(request: Request, kind: str, type_id: str) -> dict[str, Any]:
    return {"self": {"href": f"{base_url(request)}{PREFIX}/{kind}/{type_id}"}}


def _listing(request: Request, items: list[dict[str, Any]], key: str, render: Any) -> Response:
    page, size = page_params(request, DEFAULT_PAGE_SIZE)
    predicate, _ = compile_filter(request.query_params.get("filter"))
    chosen = sort_items([i for i in items if predicate(i)], request.query_params.get("sort"), "name")
    return json_response(spring_page(request, chosen, page, size, key, render))


def _status(created: bool) -> int:
    return 201 if created else 200


@router.get("/aspecttypes")
async def list_aspect_types(request: Request) -> Response:
    """List aspect types (paged, filter, sort)."""
    types = authorized_backend(request, "am.r").types
    return _listing(
        request,
        list(types.aspect_types.values()),
        "aspectTypes",
        lambda t: {**t, "_links": _links(request, "aspecttypes", t["id"])},
    )


@router.get("/aspecttypes/{type_id}")
async def get_aspect_type(request: Request, type_id: str) -> Response:
    """Return one aspect type."""
    t = authorized_backend(request, "am.r").types.get_aspect_type(type_id)
    return single(request, t, {**t, "_links": _links(request, "aspecttypes", type_id)})


@router.put("/aspecttypes/{type_id}")
async def put_aspect_type(request: Request, type_id: str) -> Response:
    """Create or replace an aspect type."""
    types = authorized_backend(request, "am.w").types
    t, created = types.put_aspect_type(
        type_id,
        await read_json(request),
        etag_value(request.headers.get("if-match")),
        etag_value(request.headers.get("if-none-match")),
    )
    return single(request, t, {**t, "_links": _links(request, "aspecttypes", type_id)}, _status(created))


@router.patch("/aspecttypes/{type_id}")
async def patch_aspect_type(request: Request, type_id: str) -> Response:
    """Merge-patch an aspect type."""
    types = authorized_backend(request, "am.w").types
    t = types.patch_aspect_type(type_id, await read_json(request), etag_value(request.headers.get("if-match")))
    return single(request, t, {**t, "_links": _links(request, "aspecttypes", type_id)})


@router.delete("/aspecttypes/{type_id}")
async def delete_aspect_type(request: Request, type_id: str) -> Response:
    """Delete an aspect type no asset type uses."""
    types = authorized_backend(request, "am.w").types
    types.delete_aspect_type(type_id, etag_value(request.headers.get("if-match")))
    return Response(status_code=204)


@router.get("/assettypes")
async def list_asset_types(request: Request) -> Response:
    """List asset types (paged, filter, sort; ``exploded``)."""
    types = authorized_backend(request, "am.r").types
    exploded = query_bool(request, "exploded")
    return _listing(
        request,
        list(types.asset_types.values()),
        "assetTypes",
        lambda t: {**types.render_asset_type(t, exploded), "_links": _links(request, "assettypes", t["id"])},
    )


@router.get("/assettypes/{type_id}")
async def get_asset_type(request: Request, type_id: str) -> Response:
    """Return one asset type (``exploded`` adds inherited aspects and variables)."""
    types = authorized_backend(request, "am.r").types
    t = types.get_asset_type(type_id)
    body = {
        **types.render_asset_type(t, query_bool(request, "exploded")),
        "_links": _links(request, "assettypes", type_id),
    }
    return single(request, t, body)


@router.put("/assettypes/{type_id}")
async def put_asset_type(request: Request, type_id: str) -> Response:
    """Create or replace an asset type."""
    types = authorized_backend(request, "am.w").types
    t, created = types.put_asset_type(
        type_id,
        await read_json(request),
        etag_value(request.headers.get("if-match")),
        etag_value(request.headers.get("if-none-match")),
    )
    body = {**types.render_asset_type(t, False), "_links": _links(request, "assettypes", type_id)}
    return single(request, t, body, _status(created))


@router.patch("/assettypes/{type_id}")
async def patch_asset_type(request: Request, type_id: str) -> Response:
    """Merge-patch an asset type."""
    types = authorized_backend(request, "am.w").types
    t = types.patch_asset_type(type_id, await read_json(request), etag_value(request.headers.get("if-match")))
    body = {**types.render_asset_type(t, False), "_links": _links(request, "assettypes", type_id)}
    return single(request, t, body)


@router.delete("/assettypes/{type_id}")
async def delete_asset_type(request: Request, type_id: str) -> Response:
    """Delete an asset type that no asset uses."""
    backend = authorized_backend(request, "am.w")
    backend.types.delete_asset_type(
        type_id, etag_value(request.headers.get("if-match")), backend.assets.uses_type(type_id)
    )
    return Response(status_code=204)
