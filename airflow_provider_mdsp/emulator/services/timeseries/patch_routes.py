"""IoT Time Series v3 ``PATCH /timeseries/{entity}/{aspect}``: merge variables (see :mod:`.patch`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...errors import ApiError
from ...wire import read_json
from .patch import MAX_BYTES, patch_records

router = APIRouter(prefix="/api/iottimeseries/v3")
PATCH_STATUS = 204  # gap: as PUT


@router.patch("/timeseries/{entity_id}/{property_set}")
async def patch_timeseries(request: Request, entity_id: str, property_set: str) -> Response:
    """Merge the given variables into the records at their timestamps (all or nothing)."""
    backend = authorized_backend(request, "iot.tim.w")
    if len(await request.body()) > MAX_BYTES:
        raise ApiError(413, f"Payload exceeds {MAX_BYTES} bytes")
    patch_records(backend.timeseries, entity_id, property_set, await read_json(request), backend.clock.now_ms())
    return Response(status_code=PATCH_STATUS)
