"""Asset Management v3 asset routes (§3): parse, call :mod:`.models`, serialise.

Gap choices: POST /assets answers 201; DELETE answers 204; a stale ``If-Match`` answers the
configured ``stale_etag_status`` (412 by default); ``sort`` accepts ``field``, ``field,asc|desc``
or ``asc|desc`` (field defaults to ``name``).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...paging import filtered_page
from ...responses import json_response
from ...wire import base_url, etag_write, if_match, read_json, single

router = APIRouter(prefix="/api/assetmanagement/v3")
PREFIX = "/api/assetmanagement/v3"
CREATE_STATUS = 201  # gap (§11)
DEFAULT_PAGE_SIZE = 10  # §3


def asset_links(request: Request, asset: dict[str, Any]) -> dict[str, Any]:
    """Return an asset's ``_links``.

    :param request: the request (links are absolute on its host)
    :param asset: the asset
    """
    href = f"{base_url(request)}{PREFIX}/assets/{asset['assetId']}"
    children = quote(json.dumps({"parentId": asset["assetId"]}, separators=(",", ":")))
    links = {
        "self": {"href": href},
        "children": {"href": f"{base_url(request)}{PREFIX}/assets?filter={children}"},
        "variables": {"href": f"{href}/variables"},
        "aspects": {"href": f"{href}/aspects"},
        "location": {"href": f"{href}/location"},
    }
    if asset["parentId"]:
        links["parent"] = {"href": f"{base_url(request)}{PREFIX}/assets/{asset['parentId']}"}
    return links


def render_asset(request: Request, asset: dict[str, Any]) -> dict[str, Any]:
    """Return an asset in wire form.

    :param request: the request
    :param asset: the stored asset
    """
    return {**asset, "_links": asset_links(request, asset)}


@router.get("/assets")
async def list_assets(request: Request) -> Response:
    """List assets (Spring paging, JSON filter, sort)."""
    assets = authorized_backend(request, "am.r").assets
    body = filtered_page(
        request, "assets", DEFAULT_PAGE_SIZE, assets.all, special={"hasType": assets.has_type}, render=render_asset
    )
    return json_response(body)


@router.post("/assets")
async def create_asset(request: Request) -> Response:
    """Create an asset."""
    assets = authorized_backend(request, "am.w").assets
    asset = assets.create(await read_json(request))
    return single(request, asset, render_asset(request, asset), CREATE_STATUS)


@router.get("/assets/root")
async def root_asset(request: Request) -> Response:
    """Return the tenant's root asset."""
    assets = authorized_backend(request, "am.r").assets
    root = assets.root()
    return single(request, root, render_asset(request, root))


@router.get("/assets/{asset_id}")
async def get_asset(request: Request, asset_id: str) -> Response:
    """Return one asset (``If-None-Match`` gives 304)."""
    asset = authorized_backend(request, "am.r").assets.get(asset_id)
    return single(request, asset, render_asset(request, asset))


@router.put("/assets/{asset_id}")
async def replace_asset(request: Request, asset_id: str) -> Response:
    """Replace an asset (``If-Match`` required)."""
    assets = authorized_backend(request, "am.w").assets
    return await etag_write(request, partial(assets.replace, asset_id), render_asset)


@router.patch("/assets/{asset_id}")
async def patch_asset(request: Request, asset_id: str) -> Response:
    """Merge-patch an asset (``application/merge-patch+json``, ``If-Match`` required)."""
    assets = authorized_backend(request, "am.w").assets
    return await etag_write(request, partial(assets.patch, asset_id), render_asset)


@router.delete("/assets/{asset_id}")
async def delete_asset(request: Request, asset_id: str) -> Response:
    """Delete an asset that has no children (``If-Match`` required; 409 while it has some)."""
    assets = authorized_backend(request, "am.w").assets
    assets.delete(asset_id, if_match(request))
    return Response(status_code=204)


@router.post("/assets/{asset_id}/move")
async def move_asset(request: Request, asset_id: str) -> Response:
    """Move an asset to a new parent (``{"newParentId"}``, ``If-Match`` required)."""
    assets = authorized_backend(request, "am.w").assets
    asset = assets.move(asset_id, await read_json(request), if_match(request))
    return single(request, asset, render_asset(request, asset))


@router.get("/assets/{asset_id}/aspects")
async def asset_aspects(request: Request, asset_id: str) -> Response:
    """List the aspects of an asset (paged)."""
    assets = authorized_backend(request, "am.r").assets
    return json_response(filtered_page(request, "aspects", DEFAULT_PAGE_SIZE, lambda: assets.aspects(asset_id)))


@router.get("/assets/{asset_id}/variables")
async def asset_variables(request: Request, asset_id: str) -> Response:
    """List every aspect variable of an asset (paged)."""
    assets = authorized_backend(request, "am.r").assets
    body = filtered_page(
        request, "variables", DEFAULT_PAGE_SIZE, lambda: assets.variables(asset_id), sort_by_default=False
    )
    return json_response(body)
