"""HTTP responses of the emulator: JSON bodies, and errors in the shape of the service that was called."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from .errors import ApiError, OAuthError, S3Error, error_body, service_style


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise ``body`` with :func:`json.dumps` (no pydantic on the hot path).

    :param body: any JSON-serialisable value
    :param status: HTTP status code
    :param headers: extra headers
    """
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def render_error(exc: Exception, path: str) -> Response:
    """Render an error a route raised, in the shape the called path answers with.

    :param exc: an :class:`ApiError`, :class:`OAuthError` or :class:`S3Error`; Starlette's
        ``HTTPException`` (unknown path or method) answers as an :class:`ApiError` of its status
    :param path: request path
    """
    if isinstance(exc, OAuthError):
        return render_oauth_error(exc)
    if isinstance(exc, S3Error):
        return render_s3_error(exc)
    if isinstance(exc, HTTPException):
        exc = ApiError(exc.status_code, str(exc.detail))
    assert isinstance(exc, ApiError)
    return render_api_error(exc, path)


def render_api_error(exc: ApiError, path: str) -> Response:
    """Render an :class:`ApiError` for the service that owns ``path``.

    :param exc: the error
    :param path: request path
    """
    style = service_style(path)
    body = error_body(style, exc.status, exc.code, exc.message, path)
    return json_response(body, exc.status, exc.headers)


def render_oauth_error(exc: OAuthError) -> Response:
    """Render an :class:`OAuthError`.

    :param exc: the error
    """
    return json_response({"error": exc.error, "error_description": exc.description}, exc.status)


def render_s3_error(exc: S3Error) -> Response:
    """Render an :class:`S3Error` as S3's XML error.

    :param exc: the error
    """
    error = f"<Error><Code>{exc.code}</Code><Message>{exc.message}</Message></Error>"
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{error}'
    return Response(body, status_code=exc.status, media_type="application/xml")
