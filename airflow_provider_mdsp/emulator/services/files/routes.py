"""IoT File v3 routes (§7, corrected by §0).

Rules: a PUT answers 201 when it creates the file and 204 when it replaces it, with the new
integer etag in an (unquoted) ``ETag`` header (§0, IoT File OpenAPI spec 3.2.4); DELETE takes
no ``If-Match`` (the spec names none), so one sent is ignored; search ``limit`` is at most 200
(spec 3.2.4), ``offset`` at most 10,000 (DOC api-iotfile-references-filtering) and
``count=true`` answers the total in ``X-Total-Count`` (spec 3.2.4). ``If-None-Match`` on GET is
not supported and is ignored.

Gap choices: a ``limit`` above 200 is clamped to 200 rather than refused (a client that stops at
the first page shorter than the ``limit`` it asked for then misses files, as it would on a
tenant that clamps); multipart ``start``/``part``/``abort`` answer 200; DELETE answers 204.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized, authorized_backend
from ...errors import ApiError
from ...responses import json_response
from ...wire import if_match, query_bool, query_int

router = APIRouter(prefix="/api/iotfile/v3")
MAX_LIMIT = 200  # §0: the OpenAPI spec 3.2.4 caps limit at 200
MAX_OFFSET = 10_000  # §0: DOC api-iotfile-references-filtering
TOTAL_COUNT_HEADER = "X-Total-Count"  # §0
UPDATED_STATUS = 204  # §0: PUT over an existing file


def _meta_headers(request: Request) -> dict[str, str | None]:
    return {
        "type": request.headers.get("type"),
        "description": request.headers.get("description"),
        "timestamp": request.headers.get("timestamp"),
        "if-match": if_match(request),
    }


@router.get("/files/{entity_id}")
async def search_files(request: Request, entity_id: str) -> Response:
    """Search an entity's files: a plain array, ``offset``/``limit`` paging."""
    files = authorized_backend(request, "iot.fil.r").files
    offset = query_int(request, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    limit = min(query_int(request, "limit", MAX_LIMIT, minimum=1), MAX_LIMIT)
    found = files.search(entity_id, request.query_params.get("filter"), request.query_params.get("order"))
    headers = {TOTAL_COUNT_HEADER: str(len(found))} if query_bool(request, "count") else None
    return json_response(found[offset : offset + limit], headers=headers)


@router.put("/files/{entity_id}/{filepath:path}")
async def put_file(request: Request, entity_id: str, filepath: str) -> Response:
    """Upload a file, or one step of a multipart upload (``upload``/``part`` parameters)."""
    caller, backend = authorized(request, "iot.fil.w")
    files = backend.files
    upload = request.query_params.get("upload")
    part = query_int(request, "part", 0) if request.query_params.get("part") else None
    data = await request.body()
    headers = _meta_headers(request)
    if upload == "start":
        files.start_upload(entity_id, filepath, headers["if-match"])
        return Response(status_code=200)
    if upload == "abort":
        files.abort(entity_id, filepath)
        return Response(status_code=200)
    if upload not in (None, "complete"):
        raise ApiError(400, f"upload must be start, complete or abort, got {upload!r}")
    if part is not None or (upload == "complete" and data):
        number = part if part is not None else files.next_part(entity_id, filepath)
        files.put_part(entity_id, filepath, number, data, final=upload == "complete")
        if upload is None:
            return Response(status_code=200)
    if upload == "complete":
        meta, created = files.complete(entity_id, filepath, headers, caller.client_id)
    else:
        meta, created = files.put(entity_id, filepath, data, headers, caller.client_id)
    return Response(status_code=201 if created else UPDATED_STATUS, headers={"ETag": str(meta["etag"])})


@router.get("/files/{entity_id}/{filepath:path}")
async def get_file(request: Request, entity_id: str, filepath: str) -> Response:
    """Download a file; ``Range: bytes=a-b`` gives 206."""
    stored = authorized_backend(request, "iot.fil.r").files.get(entity_id, filepath)
    headers = {"ETag": str(stored.meta["etag"]), "Accept-Ranges": "bytes"}
    media = stored.meta["type"]
    range_header = request.headers.get("range")
    if not range_header:
        return Response(stored.data, media_type=media, headers=headers)
    size = len(stored.data)
    span = parse_range(range_header, size)
    if span is None:
        raise ApiError(
            416,
            f"Range {range_header!r} cannot be satisfied for {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(stored.data[start : end + 1], status_code=206, media_type=media, headers=headers)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Parse the first range of ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` (inclusive end).

    :param header: the ``Range`` header
    :param size: file size
    """
    unit, _, spec = header.partition("=")
    first = spec.split(",")[0].strip()
    if unit.strip().lower() != "bytes" or "-" not in first:
        return None
    lo, _, hi = first.partition("-")
    try:
        if lo == "":
            n = int(hi)
            return (max(size - n, 0), size - 1) if n > 0 and size else None
        start = int(lo)
        end = min(int(hi), size - 1) if hi else size - 1
    except ValueError:
        return None
    return (start, end) if 0 <= start <= end else None


@router.delete("/files/{entity_id}/{filepath:path}")
async def delete_file(request: Request, entity_id: str, filepath: str) -> Response:
    """Delete a file; an ``If-Match`` header is ignored, as the service takes none (§0)."""
    authorized_backend(request, "iot.fil.d").files.delete(entity_id, filepath)
    return Response(status_code=204)


@router.get("/fileslist/{entity_id}/{filepath:path}")
async def list_parts(request: Request, entity_id: str, filepath: str) -> Response:
    """List the parts of an unfinished multipart upload."""
    files = authorized_backend(request, "iot.fil.r").files
    return json_response(files.list_parts(entity_id, filepath))
