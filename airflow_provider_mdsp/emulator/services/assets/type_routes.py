"""Asset Management v3 routes for asset types and aspect types (§3).

PUT creates (201) or replaces (200, ``If-Match`` required); ``If-None-Match: *`` makes it
create-only. DELETE answers 204. ``exploded=true`` on asset types adds what parent types
contribute.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...paging import filtered_page
from ...responses import json_response
from ...wire import base_url, etag_write, if_match, if_none_match, query_bool, read_json, single
from .routes import DEFAULT_PAGE_SIZE, PREFIX
from .types import TypeRegistry

router = APIRouter(prefix=PREFIX)


def _links(request: Request, kind: str, type_id: str) -> dict[str, Any]:
    return {"self": {"href": f"{base_url(request)}{PREFIX}/{kind}/{type_id}"}}


def _aspect_type(request: Request, t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "_links": _links(request, "aspecttypes", t["id"])}


def _asset_type(request: Request, types: TypeRegistry, t: dict[str, Any], exploded: bool) -> dict[str, Any]:
    return {**types.render_asset_type(t, exploded), "_links": _links(request, "assettypes", t["id"])}


def _status(created: bool) -> int:
    return 201 if created else 200


@router.get("/aspecttypes")
async def list_aspect_types(request: Request) -> Response:
    """List aspect types (paged, filter, sort)."""
    types = authorized_backend(request, "am.r").types
    body = filtered_page(
        request, "aspectTypes", DEFAULT_PAGE_SIZE, types.aspect_types.values, render=lambda t: _aspect_type(request, t)
    )
    return json_response(body)


@router.get("/aspecttypes/{type_id}")
async def get_aspect_type(request: Request, type_id: str) -> Response:
    """Return one aspect type."""
    t = authorized_backend(request, "am.r").types.get_aspect_type(type_id)
    return single(request, t, _aspect_type(request, t))


@router.put("/aspecttypes/{type_id}")
async def put_aspect_type(request: Request, type_id: str) -> Response:
    """Create or replace an aspect type."""
    types = authorized_backend(request, "am.w").types
    t, created = types.put_aspect_type(type_id, await read_json(request), if_match(request), if_none_match(request))
    return single(request, t, _aspect_type(request, t), _status(created))


@router.patch("/aspecttypes/{type_id}")
async def patch_aspect_type(request: Request, type_id: str) -> Response:
    """Merge-patch an aspect type."""
    types = authorized_backend(request, "am.w").types
    return await etag_write(request, partial(types.patch_aspect_type, type_id), _aspect_type)


@router.delete("/aspecttypes/{type_id}")
async def delete_aspect_type(request: Request, type_id: str) -> Response:
    """Delete an aspect type no asset type uses."""
    authorized_backend(request, "am.w").types.delete_aspect_type(type_id, if_match(request))
    return Response(status_code=204)


@router.get("/assettypes")
async def list_asset_types(request: Request) -> Response:
    """List asset types (paged, filter, sort; ``exploded``)."""
    types = authorized_backend(request, "am.r").types
    exploded = query_bool(request, "exploded")
    body = filtered_page(
        request,
        "assetTypes",
        DEFAULT_PAGE_SIZE,
        types.asset_types.values,
        render=lambda t: _asset_type(request, types, t, exploded),
    )
    return json_response(body)


@router.get("/assettypes/{type_id}")
async def get_asset_type(request: Request, type_id: str) -> Response:
    """Return one asset type (``exploded`` adds inherited aspects and variables)."""
    types = authorized_backend(request, "am.r").types
    t = types.get_asset_type(type_id)
    return single(request, t, _asset_type(request, types, t, query_bool(request, "exploded")))


@router.put("/assettypes/{type_id}")
async def put_asset_type(request: Request, type_id: str) -> Response:
    """Create or replace an asset type."""
    types = authorized_backend(request, "am.w").types
    t, created = types.put_asset_type(type_id, await read_json(request), if_match(request), if_none_match(request))
    return single(request, t, _asset_type(request, types, t, False), _status(created))


@router.patch("/assettypes/{type_id}")
async def patch_asset_type(request: Request, type_id: str) -> Response:
    """Merge-patch an asset type."""
    types = authorized_backend(request, "am.w").types
    patch = partial(types.patch_asset_type, type_id)
    return await etag_write(request, patch, lambda r, t: _asset_type(r, types, t, False))


@router.delete("/assettypes/{type_id}")
async def delete_asset_type(request: Request, type_id: str) -> Response:
    """Delete an asset type that no asset uses."""
    backend = authorized_backend(request, "am.w")
    backend.types.delete_asset_type(type_id, if_match(request), backend.assets.uses_type(type_id))
    return Response(status_code=204)
