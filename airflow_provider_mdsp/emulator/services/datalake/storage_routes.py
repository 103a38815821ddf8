"""The storage behind the Data Lake's pre-signed URLs: ``/_datalake-storage/{tenant}/{owner}/{path}``.

Like S3 pre-signed URLs (DOC api-integrated-data-lake-overview): no bearer token, the URL's
signature and expiry are the authorisation, the method is part of the signature, an object is at
most 5 GB, and errors are S3's XML ``<Error><Code>…</Code><Message>…</Message></Error>``
(raised as :class:`~...errors.S3Error`).
Uploads stream to disk and downloads stream from it, whatever the object's size.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ...auth import emulator_state
from ...errors import S3Error
from .store import MAX_OBJECT_BYTES, clean_path, sign

router = APIRouter(prefix="/_datalake-storage")


SIGNATURE_MISMATCH = "The request signature does not match this request"
TOO_LARGE = "Your proposed upload exceeds the maximum allowed size"


def _signed_path(request: Request, tenant: str, owner: str, path: str) -> str:
    """Return the object's clean path once the URL's method, signature and expiry allow this request.

    :raises S3Error: 403 ``SignatureDoesNotMatch`` or ``AccessDenied`` (expired)
    """
    clean = clean_path(path)
    params = request.query_params
    method, expires, signature = params.get("X-Method"), params.get("X-Expires", ""), params.get("X-Signature", "")
    if method != request.method or not expires.isdigit():
        raise S3Error(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    expected = sign(method, tenant, owner, clean, int(expires))
    if not hmac.compare_digest(expected, signature):
        raise S3Error(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    if int(expires) < emulator_state(request).backend(tenant).lake.clock():
        raise S3Error(403, "AccessDenied", "Request has expired")
    return clean


@router.put("/{tenant}/{owner}/{path:path}")
async def put_object(request: Request, tenant: str, owner: str, path: str) -> Response:
    """Store an object from a streamed body."""
    clean = _signed_path(request, tenant, owner, path)
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > MAX_OBJECT_BYTES:
        raise S3Error(400, "EntityTooLarge", TOO_LARGE)
    store = emulator_state(request).backend(tenant).lake
    temp, size = store.begin_write(owner, clean), 0
    try:
        with temp.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_OBJECT_BYTES:
                    raise S3Error(400, "EntityTooLarge", TOO_LARGE)
                out.write(chunk)
        store.commit(owner, clean, temp)
    finally:
        temp.unlink(missing_ok=True)
    return Response(status_code=200, headers={"ETag": f'"{size}"'})


@router.get("/{tenant}/{owner}/{path:path}")
async def get_object(request: Request, tenant: str, owner: str, path: str) -> Response:
    """Stream an object back."""
    clean = _signed_path(request, tenant, owner, path)
    store = emulator_state(request).backend(tenant).lake
    if (owner, clean) not in store.objects:
        raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
    return FileResponse(store.file(owner, clean), media_type="application/octet-stream")
