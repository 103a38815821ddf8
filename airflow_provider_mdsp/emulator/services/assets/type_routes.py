"""Asset Management v3 routes for asset types and aspect types (§3).

Both kinds answer alike: a paged, filtered list; GET one (``If-None-Match`` gives 304); PUT
creates (201) or replaces (200, ``If-Match`` required), ``If-None-Match: *`` makes it create-only;
PATCH merge-patches (``If-Match`` required); DELETE answers 204. ``exploded=true`` on asset
types adds what parent types contribute.
"""

from __future__ import annotations

from collections.abc import Callable
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
from .types import TypeDocuments, TypeRegistry

router = APIRouter(prefix=PREFIX)

#: ``(types, stored type, exploded) -> wire form`` without ``_links``
TypeRender = Callable[[TypeRegistry, dict[str, Any], bool], dict[str, Any]]


def _add_type_kind_routes(
    path: str, key: str, documents: Callable[[TypeRegistry], TypeDocuments], render: TypeRender
) -> None:
    """Register the list, GET, PUT and PATCH routes of one type kind.

    :param path: the collection's path segment, e.g. ``aspecttypes``
    :param key: the list's ``_embedded`` key, e.g. ``aspectTypes``
    :param documents: the kind's documents in a tenant's types
    :param render: the kind's wire form
    """

    def wire(types: TypeRegistry, request: Request, t: dict[str, Any], exploded: bool = False) -> dict[str, Any]:
        href = f"{base_url(request)}{PREFIX}/{path}/{t['id']}"
        return {**render(types, t, exploded), "_links": {"self": {"href": href}}}

    async def list_types(request: Request) -> Response:
        types = authorized_backend(request, "am.r").types
        exploded = query_bool(request, "exploded")
        render_one = partial(wire, types, exploded=exploded)
        body = filtered_page(request, key, DEFAULT_PAGE_SIZE, documents(types).items.values, render=render_one)
        return json_response(body)

    async def get_type(request: Request, type_id: str) -> Response:
        types = authorized_backend(request, "am.r").types
        t = documents(types).get(type_id)
        return single(request, t, wire(types, request, t, query_bool(request, "exploded")))

    async def put_type(request: Request, type_id: str) -> Response:
        types = authorized_backend(request, "am.w").types
        t, created = documents(types).put(type_id, await read_json(request), if_match(request), if_none_match(request))
        return single(request, t, wire(types, request, t), 201 if created else 200)

    async def patch_type(request: Request, type_id: str) -> Response:
        types = authorized_backend(request, "am.w").types
        return await etag_write(request, partial(documents(types).patch, type_id), partial(wire, types))

    router.add_api_route(f"/{path}", list_types, methods=["GET"])
    router.add_api_route(f"/{path}/{{type_id}}", get_type, methods=["GET"])
    router.add_api_route(f"/{path}/{{type_id}}", put_type, methods=["PUT"])
    router.add_api_route(f"/{path}/{{type_id}}", patch_type, methods=["PATCH"])


_add_type_kind_routes("aspecttypes", "aspectTypes", lambda types: types.aspects, lambda types, t, exploded: t)
_add_type_kind_routes("assettypes", "assetTypes", lambda types: types.assets, TypeRegistry.render_asset_type)


@router.delete("/aspecttypes/{type_id}")
async def delete_aspect_type(request: Request, type_id: str) -> Response:
    """Delete an aspect type no asset type uses."""
    authorized_backend(request, "am.w").types.delete_aspect_type(type_id, if_match(request))
    return Response(status_code=204)


@router.delete("/assettypes/{type_id}")
async def delete_asset_type(request: Request, type_id: str) -> Response:
    """Delete an asset type that no asset uses."""
    backend = authorized_backend(request, "am.w")
    backend.types.delete_asset_type(type_id, if_match(request), backend.assets.uses_type(type_id))
    return Response(status_code=204)
