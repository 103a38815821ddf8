"""Small request-parsing helpers shared by the routes (query integers, ETags, JSON bodies, URLs, ETag writes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .errors import MISSING_PARAMETER, ApiError
from .responses import json_response
from .timefmt import TimeFormatError, parse_iso


def query_int(request: Request, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    """Read an integer query parameter.

    :param request: the request
    :param name: parameter name
    :param default: value when absent
    :param minimum: smallest allowed value
    :param maximum: largest allowed value
    :raises ApiError: 400 naming the parameter
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"Query parameter '{name}' must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ApiError(400, f"Query parameter '{name}' must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ApiError(400, f"Query parameter '{name}' must be <= {maximum}, got {value}")
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    """Read a boolean query parameter (``true``/``false``).

    :param request: the request
    :param name: parameter name
    :param default: value when absent
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in ("true", "1", "yes")


def query_time(request: Request, name: str, required: bool = False) -> int | None:
    """Read an ISO 8601 timestamp query parameter as epoch milliseconds.

    :param request: the request
    :param name: parameter name
    :param required: raise when absent
    :raises ApiError: 400 naming the parameter
    """
    raw = request.query_params.get(name)
    if not raw:
        if required:
            raise ApiError(400, f"Query parameter '{name}' is required", MISSING_PARAMETER)
        return None
    try:
        return parse_iso(raw)
    except TimeFormatError as exc:
        raise ApiError(400, f"Query parameter '{name}' is not an ISO 8601 timestamp: {raw!r}") from exc


def required_time(request: Request, name: str) -> int:
    """Read a required ISO 8601 timestamp query parameter as epoch milliseconds.

    :param request: the request
    :param name: parameter name
    :raises ApiError: 400 when absent or malformed
    """
    value = query_time(request, name, required=True)
    assert value is not None  # query_time raised otherwise
    return value


def etag_value(raw: str | None) -> str | None:
    """Normalise an ``If-Match``/``If-None-Match`` value: drop ``W/`` and quotes.

    :param raw: the header value
    """
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def if_match(request: Request) -> str | None:
    """Return the request's ``If-Match`` value, normalised by :func:`etag_value`.

    :param request: the request
    """
    return etag_value(request.headers.get("if-match"))


def if_none_match(request: Request) -> str | None:
    """Return the request's ``If-None-Match`` value, normalised by :func:`etag_value`.

    :param request: the request
    """
    return etag_value(request.headers.get("if-none-match"))


async def read_json(request: Request) -> Any:
    """Parse the request body as JSON.

    :param request: the request
    :raises ApiError: 400 when the body is empty or malformed
    """
    body = await request.body()
    if not body:
        raise ApiError(400, "Request body is required")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc}") from exc


def base_url(request: Request) -> str:
    """Return ``scheme://host[:port]`` of the request (links stay on the caller's host).

    :param request: the request
    """
    return str(request.base_url).rstrip("/")


def url_with(request: Request, **changes: Any) -> str:
    """Return this request's absolute URL with some query parameters replaced.

    :param request: the request
    :param changes: parameters to set (``None`` removes one)
    """
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{base_url(request)}{request.url.path}" + (f"?{query}" if query else "")


def single(request: Request, resource: dict[str, Any], body: Any, status: int = 200) -> Response:
    """Answer one resource with an ``ETag`` header, or 304 when ``If-None-Match`` matches.

    :param request: the request
    :param resource: the stored resource (holds ``etag``)
    :param body: its wire form
    :param status: status code
    """
    etag = str(resource["etag"])
    headers = {"ETag": f'"{etag}"'}
    if request.method == "GET" and if_none_match(request) == etag:
        return Response(status_code=304, headers=headers)
    return json_response(body, status, headers)


async def etag_write(
    request: Request,
    change: Callable[[Any, str | None], dict[str, Any]],
    render: Callable[[Request, dict[str, Any]], Any],
) -> Response:
    """Apply a JSON body guarded by ``If-Match`` and answer the changed resource with its new ``ETag``.

    :param request: the request
    :param change: ``(body, if_match) -> resource``; the model checks the etag (raises 4xx)
    :param render: ``(request, resource) -> wire form``
    """
    resource = change(await read_json(request), if_match(request))
    return single(request, resource, render(request, resource))
