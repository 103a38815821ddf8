"""IoT TS Aggregates v4 route: ``GET /api/iottsaggregates/v4/aggregates`` (§5)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...errors import MISSING_PARAMETER, ApiError
from ...responses import json_response
from ...wire import query_int, query_time
from .models import parse_select
from .window import resolve

router = APIRouter(prefix="/api/iottsaggregates/v4")


@router.get("/aggregates")
async def get_aggregates(request: Request) -> Response:
    """Aggregate one aspect of one asset over intervals."""
    backend = authorized_backend(request, "iot.tim.r")
    params = request.query_params
    asset_id, aspect = params.get("assetId"), params.get("aspectName")
    if not asset_id or not aspect:
        raise ApiError(400, "Query parameters 'assetId' and 'aspectName' are required", MISSING_PARAMETER)
    raw_value = params.get("intervalValue")
    value = query_int(request, "intervalValue", 0) if raw_value else None
    count = query_int(request, "count", 0) if params.get("count") else None
    window = resolve(
        backend.clock.now_ms(),
        query_time(request, "from"),
        query_time(request, "to"),
        params.get("intervalUnit") or None,
        value,
        count,
    )
    aggregates = backend.aggregates
    select = parse_select(params.get("select"), aggregates.numeric_variables(asset_id, aspect), aspect)
    return json_response({"aggregates": aggregates.aggregate(asset_id, aspect, window, select)})
