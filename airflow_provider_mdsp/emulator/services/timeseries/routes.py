"""IoT Time Series v3 routes (§4): parse the request, call the model, serialise.

Choices where the reference has gaps (§11): a single-entity PUT answers 204; a ``limit`` above
2000 is rejected with 400 (``REJECT_LIMIT_ABOVE_MAX``); a body above 1 MB answers 413. With
``sort=desc`` the next page moves ``to`` to just before the last returned ``_time``.

The GET path is the hot one: generated records are formatted straight into JSON text.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...errors import ApiError
from ...responses import json_response
from ...timefmt import format_ms
from ...wire import query_bool, query_int, query_time, read_json, required_time, url_with
from .models import TimeSeriesBackend
from .render import parse_select, render_records
from .store import MAX_TIME, MIN_TIME

router = APIRouter(prefix="/api/iottimeseries/v3")

MAX_LIMIT = 2000  # plain TS returns at most 2,000 records (DOC api-iottsbulk-overview)
REJECT_LIMIT_ABOVE_MAX = True  # gap: rejected (400) rather than clamped
PUT_STATUS = 204  # gap: "no body; 204 likely"
MAX_PUT_BYTES = 1024 * 1024  # PUT payload <= 1 MB (§4)
MAX_MULTI_BYTES = 100 * 1024  # multi-entity PUT <= 100 kb (§4)
MULTI_PUT_STATUS = 202


@router.get("/timeseries/{entity_id}/{property_set}")
async def get_timeseries(request: Request, entity_id: str, property_set: str) -> Response:
    """Read records; ``Link: <next>; rel="next"`` when more exist in the range."""
    ts = authorized_backend(request, "iot.tim.r").timeseries
    lo, hi = query_time(request, "from"), query_time(request, "to")
    limit = query_int(request, "limit", MAX_LIMIT, minimum=1)
    if limit > MAX_LIMIT and REJECT_LIMIT_ABOVE_MAX:
        raise ApiError(400, f"Query parameter 'limit' must be <= {MAX_LIMIT}, got {limit}")
    sort = request.query_params.get("sort", "asc").lower()
    if sort not in ("asc", "desc"):
        raise ApiError(400, f"Query parameter 'sort' must be asc or desc, got {sort!r}")
    names = ts.check_select(entity_id, property_set, parse_select(request))
    if query_bool(request, "latestValue"):
        latest = [{"_time": format_ms(t), **values} for t, values in ts.latest(entity_id, property_set, names)]
        return json_response(latest)
    if lo is None and hi is None:
        # No range: only the newest record (QX).
        hits = ts.read(entity_id, property_set, MIN_TIME, MAX_TIME, 1, descending=True)
        return Response(render_records(ts, entity_id, property_set, hits, names), media_type="application/json")
    lo, hi = MIN_TIME if lo is None else lo, MAX_TIME if hi is None else hi
    desc = sort == "desc"
    key = (entity_id, property_set, lo, hi, limit, desc, names, str(request.base_url))
    page = ts.pages.get(key)
    if page is None:
        page = _render_page(request, ts, entity_id, property_set, lo, hi, limit, desc, names)
        ts.pages.put(key, page)
    body, link = page
    return Response(body, media_type="application/json", headers={"Link": link} if link else {})


def _render_page(
    request: Request,
    ts: TimeSeriesBackend,
    entity_id: str,
    property_set: str,
    lo: int,
    hi: int,
    limit: int,
    desc: bool,
    names: tuple[str, ...] | None,
) -> tuple[str, str | None]:
    hits = ts.read(entity_id, property_set, lo, hi, limit + 1, descending=desc)
    link = None
    if len(hits) > limit:
        hits = hits[:limit]
        last = hits[-1][0]
        nxt = url_with(request, to=format_ms(last - 1)) if desc else url_with(request, **{"from": format_ms(last)})
        link = f'<{nxt}>; rel="next"'
    return render_records(ts, entity_id, property_set, hits, names), link


@router.put("/timeseries/{entity_id}/{property_set}")
async def put_timeseries(request: Request, entity_id: str, property_set: str) -> Response:
    """Write records, replacing whole records at their timestamps."""
    ts = authorized_backend(request, "iot.tim.w").timeseries
    if len(await request.body()) > MAX_PUT_BYTES:
        raise ApiError(413, f"Payload exceeds {MAX_PUT_BYTES} bytes")
    ts.put(entity_id, property_set, await read_json(request))
    return Response(status_code=PUT_STATUS)


@router.put("/timeseries")
async def put_timeseries_multi(request: Request) -> Response:
    """Write several entity/property-set pairs; 202 with per-pair errors."""
    ts = authorized_backend(request, "iot.tim.w").timeseries
    if len(await request.body()) > MAX_MULTI_BYTES:
        raise ApiError(413, f"Payload exceeds {MAX_MULTI_BYTES} bytes")
    errors = ts.put_multi(await read_json(request))
    return json_response({"errors": errors}, MULTI_PUT_STATUS)


@router.delete("/timeseries/{entity_id}/{property_set}")
async def delete_timeseries(request: Request, entity_id: str, property_set: str) -> Response:
    """Delete ``(from, to]``; both parameters are required."""
    ts = authorized_backend(request, "iot.tim.d").timeseries
    lo, hi = required_time(request, "from"), required_time(request, "to")
    ts.delete(entity_id, property_set, lo, hi)
    return Response(status_code=204)
