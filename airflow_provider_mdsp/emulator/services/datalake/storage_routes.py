"""The storage behind the Data Lake's pre-signed URLs: ``/_datalake-storage/{tenant}/{owner}/{path}``.

Like S3 pre-signed URLs (DOC api-integrated-data-lake-overview): no bearer token, the URL's
signature and expiry are the authorisation, the method is part of the signature, an object is at
most 5 GB, and errors are S3's XML ``<Error><Code>…</Code><Message>…</Message></Error>``.
Uploads stream to disk and downloads stream from it, whatever the object's size.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ...auth import emulator_state
from .store import MAX_OBJECT_BYTES, clean_path, sign

router = APIRouter(prefix="/_datalake-storage")


def s3_error(status: int, code: str, message: str) -> Response:
    """Return an S3-style XML error.

    :param status: HTTP status
    :param code: S3 error code, e.g. ``AccessDenied``
    :param message: the message
    """
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")


def _refusal(request: Request, tenant: str, owner: str, path: str) -> Response | None:
    params = request.query_params
    method, expires, signature = params.get("X-Method"), params.get("X-Expires", ""), params.get("X-Signature", "")
    if method != request.method or not expires.isdigit():
        return s3_error(403, "SignatureDoesNotMatch", "The request signature does not match this request")
    expected = sign(method, tenant, owner, path, int(expires))
    if not hmac.compare_digest(expected, signature):
        return s3_error(403, "SignatureDoesNotMatch", "The request signature does not match this request")
    if int(expires) < emulator_state(request).backend(tenant).lake.clock():
        return s3_error(403, "AccessDenied", "Request has expired")
    return None


@router.put("/{tenant}/{owner}/{path:path}")
async def put_object(request: Request, tenant: str, owner: str, path: str) -> Response:
    """Store an object from a streamed body."""
    clean = clean_path(path)
    refused = _refusal(request, tenant, owner, clean)
    if refused is not None:
        return refused
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > MAX_OBJECT_BYTES:
        return s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    store = emulator_state(request).backend(tenant).lake
    temp, size = store.begin_write(owner, clean), 0
    try:
        with temp.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_OBJECT_BYTES:
                    return s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                out.write(chunk)
        store.commit(owner, clean, temp)
    finally:
        temp.unlink(missing_ok=True)
    return Response(status_code=200, headers={"ETag": f'"{size}"'})


@router.get("/{tenant}/{owner}/{path:path}")
async def get_object(request: Request, tenant: str, owner: str, path: str) -> Response:
    """Stream an object back."""
    clean = clean_path(path)
    refused = _refusal(request, tenant, owner, clean)
    if refused is not None:
        return refused
    store = emulator_state(request).backend(tenant).lake
    if (owner, clean) not in store.objects:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return FileResponse(store.file(owner, clean), media_type="application/octet-stream")
