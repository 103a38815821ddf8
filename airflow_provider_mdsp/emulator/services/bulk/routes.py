"""IoT TS Bulk v3 routes (§8).

Rule (§0, DOC api-iottsbulk-overview): ``limit`` caps the whole read, not a page: each
``nextRecord`` URL carries ``limit`` reduced by the records already returned, and once ``limit``
records are returned there is no ``nextRecord``.

Gap choices: POST /importJobs answers 201 with the job and a ``Location`` header; a page holds
at most ``PAGE_RECORDS`` records (the real service fills a 1-minute budget); ``nextRecord`` is an
absolute URL on the caller's host with ``from`` moved to the last returned ``_time`` (``from``
exclusive, ``to`` inclusive, as in Time Series).
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...errors import ApiError
from ...responses import json_response
from ...timefmt import MS_PER_DAY, format_ms
from ...wire import base_url, query_int, read_json, required_time, url_with
from ..timeseries.render import parse_select, render_records

PREFIX = "/api/iottsbulk/v3"
router = APIRouter(prefix=PREFIX)
CREATE_STATUS = 201  # gap (§11)
PAGE_RECORDS = 5000
MAX_READ_RANGE_MS = 90 * MS_PER_DAY  # range < 90 d (§8)


@router.post("/importJobs")
async def create_import_job(request: Request) -> Response:
    """Submit an import job of JSON record files stored in IoT File."""
    bulk = authorized_backend(request, "iot.bi.w").bulk
    job = bulk.create(await read_json(request))
    location = f"{base_url(request)}{PREFIX}/importJobs/{job.id}"
    return json_response(bulk.status(job.id), CREATE_STATUS, {"Location": location})


@router.get("/importJobs/{job_id}")
async def get_import_job(request: Request, job_id: str) -> Response:
    """Return an import job's status."""
    return json_response(authorized_backend(request, "iot.bi.r").bulk.status(job_id))


@router.get("/timeseries/{entity_id}/{property_set}")
async def read_bulk(request: Request, entity_id: str, property_set: str) -> Response:
    """Read ``(from, to]``: ``{"records": [...], "nextRecord": url}``."""
    ts = authorized_backend(request, "iot.bts.r").timeseries
    lo, hi = required_time(request, "from"), required_time(request, "to")
    if not 0 < hi - lo < MAX_READ_RANGE_MS:
        raise ApiError(400, "'to' must be after 'from' and the range shorter than 90 days")
    limit = query_int(request, "limit", 0, minimum=1) if request.query_params.get("limit") else None
    page = min(limit, PAGE_RECORDS) if limit is not None else PAGE_RECORDS
    names = ts.check_select(entity_id, property_set, parse_select(request))
    hits = ts.read(entity_id, property_set, lo, hi, page + 1)
    tail = ""
    if len(hits) > page:
        hits = hits[:page]
        if limit != page:  # the limit, if any, is not used up: the rest of it goes on the next URL
            rest = None if limit is None else limit - page
            tail = ',"nextRecord":' + json.dumps(url_with(request, limit=rest, **{"from": format_ms(hits[-1][0])}))
    body = '{"records":' + render_records(ts, entity_id, property_set, hits, names) + tail + "}"
    return Response(body, media_type="application/json")
