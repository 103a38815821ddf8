"""Tenant Management v4 routes: the subtenants of the caller's tenant (``/api/tenantmanagement/v4``).

Source: N:sdk/tenant/tenant-management.ts ``GetSubtenants(page, size)``, ``GetSubtenant(id)`` and
tenant-management-models.ts: a Spring Data page ``{content, first, last, number, numberOfElements,
size, sort, totalElements, totalPages}``; a subtenant ``{id, displayName, description, entityId,
ETag}``; errors ``{"errors": [{code, logref, message}]}``.

The subtenants are the config's ``subtenants`` of the tenant. A subtenant token sees only itself.
Gaps: the scope name (``tm.r`` here), the default page size (20, Spring's), creating, updating and
deleting subtenants, ``entityId`` (the subtenant's asset; absent here).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorize, emulator_state
from ...errors import ApiError
from ...paging import page_params
from ...responses import json_response

router = APIRouter(prefix="/api/tenantmanagement/v4")
DEFAULT_PAGE_SIZE = 20


def subtenant_document(tenant: str, subtenant_id: str) -> dict[str, Any]:
    """Return the resource of one configured subtenant.

    :param tenant: the parent tenant
    :param subtenant_id: the subtenant id
    """
    return {
        "id": subtenant_id,
        "displayName": subtenant_id,
        "description": f"Subtenant {subtenant_id} of {tenant}",
        "ETag": 0,
    }


def _visible(request: Request) -> list[dict[str, Any]]:
    caller = authorize(request, "tm.r")
    tenant = emulator_state(request).config.tenant(caller.tenant)
    ids = list(tenant.subtenants) if tenant is not None else []
    if caller.subtenant:
        ids = [i for i in ids if i == caller.subtenant]
    return [subtenant_document(caller.tenant, i) for i in sorted(ids)]


@router.get("/subtenants")
async def list_subtenants(request: Request) -> Response:
    """List subtenants as a Spring Data page."""
    page, size = page_params(request, DEFAULT_PAGE_SIZE)
    items = _visible(request)
    chunk = items[page * size : (page + 1) * size]
    total_pages = (len(items) + size - 1) // size
    body = {
        "content": chunk,
        "first": page == 0,
        "last": page + 1 >= total_pages,
        "number": page,
        "numberOfElements": len(chunk),
        "size": size,
        "sort": {"sorted": False, "unsorted": True, "empty": True},
        "totalElements": len(items),
        "totalPages": total_pages,
    }
    return json_response(body)


@router.get("/subtenants/{subtenant_id}")
async def get_subtenant(request: Request, subtenant_id: str) -> Response:
    """Return one subtenant."""
    for item in _visible(request):
        if item["id"] == subtenant_id:
            return json_response(item)
    raise ApiError(404, f"Subtenant '{subtenant_id}' not found")
