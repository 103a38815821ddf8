"""Integrated Data Lake v3 routes (``/api/datalake/v3``): metadata, signed URLs, time-series import jobs.

Who owns what (N:sdk/data-lake/data-lake.ts docstrings): a tenant addresses its own objects, or a
subtenant's with ``subtenantid`` (query) / ``subtenantId`` (body); a subtenant token addresses only
its own objects and may not name a subtenant. Errors use ``{"errors": [{code, logref, message}]}``
(data-lake.models.ts ``Errors``). Gap choices: scopes ``idl.r``/``idl.w`` (the real names are not
public), POST of a job answers 201, DELETE 204, paging ``size`` default 20 and at most 2000.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import Caller, authorized, emulator_state
from ...errors import INVALID_BODY, ApiError
from ...paging import page_params
from ...responses import json_response
from ...state import TenantBackend
from ...wire import base_url, read_json
from .store import TENANT_OWNER, clean_path, metadata

PREFIX = "/api/datalake/v3"
router = APIRouter(prefix=PREFIX)
DEFAULT_PAGE_SIZE = 20


def owner_of(request: Request, caller: Caller, named: Any) -> str:
    """Return the partition a call addresses: the caller's subtenant, a named subtenant, or the tenant.

    :param request: the request
    :param caller: who calls
    :param named: the ``subtenantid``/``subtenantId`` the call names, if any
    :raises ApiError: 403 when a subtenant names one, 400 for an unknown subtenant
    """
    if caller.subtenant:
        if named:
            raise ApiError(403, "Subtenants may not address other subtenants' objects (subtenantId)")
        return caller.subtenant
    if not named:
        return TENANT_OWNER
    tenant = emulator_state(request).config.tenant(caller.tenant)
    if tenant is None or named not in tenant.subtenants:
        raise ApiError(400, f"Unknown subtenant '{named}' of tenant '{caller.tenant}'", INVALID_BODY)
    return str(named)


def _page(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    page, size = page_params(request, DEFAULT_PAGE_SIZE)
    total = len(items)
    return {
        key: items[page * size : (page + 1) * size],
        "page": {"size": size, "totalElements": total, "totalPages": (total + size - 1) // size, "number": page},
    }


@router.get("/objectMetadata/{path:path}")
async def object_metadata(request: Request, path: str) -> Response:
    """One object's metadata, or the objects below a folder (paged)."""
    caller, backend = authorized(request, "idl.r")
    owner = owner_of(request, caller, request.query_params.get("subtenantid"))
    clean = clean_path(path)
    found = backend.lake.objects.get((owner, clean))
    if found is not None:
        return json_response(metadata(found, owner))
    below = backend.lake.under(owner, clean)
    if not below:
        raise ApiError(404, f"No object or folder '{clean}'")
    return json_response(_page(request, "objectMetadata", [metadata(o, owner) for o in below]))


@router.put("/objectMetadata/{path:path}")
async def put_object_metadata(request: Request, path: str) -> Response:
    """Replace an object's tags."""
    caller, backend = authorized(request, "idl.w")
    owner = owner_of(request, caller, request.query_params.get("subtenantid"))
    obj = backend.lake.set_tags(owner, clean_path(path), await read_json(request))
    return json_response(metadata(obj, owner))


async def _signed_urls(request: Request, method: str, scope: str) -> Response:
    caller, backend = authorized(request, scope)
    body = await read_json(request)
    paths = body.get("paths") if isinstance(body, dict) else None
    if not isinstance(paths, list) or not paths or not all(isinstance(p, dict) for p in paths):
        raise ApiError(400, "'paths' must be a non-empty list of {\"path\": …}", INVALID_BODY)
    owner = owner_of(request, caller, body.get("subtenantId"))
    urls = []
    for entry in paths:
        clean = clean_path(entry.get("path"))
        urls.append({"path": clean, "signedUrl": backend.lake.signed_url(base_url(request), method, owner, clean)})
    return json_response({"objectUrls": urls})


@router.post("/generateUploadObjectUrls")
async def upload_urls(request: Request) -> Response:
    """Pre-signed PUT URLs."""
    return await _signed_urls(request, "PUT", "idl.w")


@router.post("/generateDownloadObjectUrls")
async def download_urls(request: Request) -> Response:
    """Pre-signed GET URLs."""
    return await _signed_urls(request, "GET", "idl.r")


def _jobs(request: Request, scope: str) -> tuple[Caller, TenantBackend]:
    return authorized(request, scope)


@router.post("/timeSeriesImportJobs")
async def create_job(request: Request) -> Response:
    """Start a time-series export into the lake."""
    caller, backend = _jobs(request, "idl.w")
    body = await read_json(request)
    owner = owner_of(request, caller, body.get("subtenantId") if isinstance(body, dict) else None)
    job = backend.lake_jobs.create(body, owner)
    return json_response(backend.lake_jobs.render(job), 201)


@router.get("/timeSeriesImportJobs")
async def list_jobs(request: Request) -> Response:
    """List jobs (a tenant sees its subtenants' too; ``filter`` takes ``{"subtenantId": …}``)."""
    import json

    caller, backend = _jobs(request, "idl.r")
    wanted = None
    raw = request.query_params.get("filter")
    if raw:
        try:
            wanted = json.loads(raw)["subtenantId"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(400, 'filter supports only {"subtenantId": …}') from exc
    jobs = backend.lake_jobs.jobs.values()
    visible = [
        j
        for j in jobs
        if (caller.subtenant is None or j.owner == caller.subtenant) and (wanted is None or j.owner == wanted)
    ]
    return json_response(_page(request, "timeSeriesImportJobs", [backend.lake_jobs.render(j) for j in visible]))


@router.get("/timeSeriesImportJobs/{job_id}")
async def get_job(request: Request, job_id: str) -> Response:
    """One job's status."""
    caller, backend = _jobs(request, "idl.r")
    return json_response(backend.lake_jobs.render(backend.lake_jobs.get(job_id, caller.subtenant)))


@router.get("/timeSeriesImportJobs/{job_id}/details")
async def job_details(request: Request, job_id: str) -> Response:
    """One job's details (after PENDING)."""
    caller, backend = _jobs(request, "idl.r")
    job = backend.lake_jobs.get(job_id, caller.subtenant)
    return json_response(backend.lake_jobs.render(job, details=True))


@router.delete("/timeSeriesImportJobs/{job_id}")
async def delete_job(request: Request, job_id: str) -> Response:
    """Delete a finished job."""
    caller, backend = _jobs(request, "idl.w")
    backend.lake_jobs.delete(job_id, caller.subtenant)
    return Response(status_code=204)
