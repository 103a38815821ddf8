"""HTTP responses of the emulator: JSON bodies, and errors in the shape of the service that was called."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from .errors import ApiError, OAuthError, error_body, service_style


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
