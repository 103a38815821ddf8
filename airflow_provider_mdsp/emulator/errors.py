"""Errors raised by the emulator's models, and each service's own error body.

Models raise :class:`ApiError` (status, service code, message) and know nothing of HTTP bodies;
this module imports no HTTP stack, so models stay plain Python. :mod:`.responses` renders an error
in the shape of the service whose path was called (insights-hub-api.md §1):

* Time Series and IoT File: ``{"id", "message"}``
* Asset Management: ``{"errors": [{"code", "errorcode", "logref", "message"}]}``
* Aggregates v4: ``{"errors": [{"code", "logref", "message"}]}`` (gap: the shape is assumed to
  follow the other v4 APIs; the reference only names the codes)
* Event Management: ``[{"logref", "message"}]``
* TS Bulk: Spring style ``{"timestamp", "status", "error", "exception", "message", "path"}``;
  ``exception`` carries the service code (gap: the real value is a Java class name)
* Identity (SCIM): ``{"schemas": [...Error], "status", "detail"}`` (gap: assumed SCIM 2.0)
* Token endpoints: OAuth ``{"error", "error_description"}``
* Data Lake storage (the pre-signed URLs): S3's XML ``<Error><Code>…</Code><Message>…</Message></Error>``
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from .timefmt import format_ms, now_ms

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

GENERIC = "mdsp.core.generic."
GENERIC_CODES = {
    400: GENERIC + "invalidParameter",
    401: GENERIC + "unauthorized",
    403: GENERIC + "forbidden",
    404: GENERIC + "noMatch",
    409: GENERIC + "conflict",
    # Gap (§11): the real code for a stale If-Match is unknown.
    412: GENERIC + "preconditionFailed",
    413: GENERIC + "payloadTooLarge",
    416: GENERIC + "rangeNotSatisfiable",
    429: GENERIC + "tooManyRequests",
    500: GENERIC + "internalServerError",
    503: GENERIC + "serviceUnavailable",
}
MISSING_PARAMETER = GENERIC + "missingParameter"
INVALID_PARAMETER = GENERIC + "invalidParameter"
INVALID_BODY = GENERIC + "invalidRequestBodyProperty"
MISSING_BODY = GENERIC + "missingRequestBodyProperty"

# Path segment after /api/ -> body style.
SERVICE_STYLES = {
    "iottimeseries": "ts",
    "iotfile": "ts",
    "assetmanagement": "assets",
    "iottsaggregates": "aggregates",
    "eventmanagement": "events",
    "iottsbulk": "bulk",
    "identitymanagement": "scim",
    "im": "scim",
    "technicaltokenmanager": "oauth",
    # N:sdk/data-lake and sdk/tenant models: {"errors": [{code, logref, message}]}
    "datalake": "aggregates",
    "tenantmanagement": "aggregates",
}


class ApiError(Exception):
    """An error an API operation answers with; rendered in the called service's body shape.

    :param status: HTTP status code
    :param message: human-readable message naming the field or parameter to fix
    :param code: service error code; defaults to the ``mdsp.core.generic.*`` code of the status
    :param headers: extra response headers (for example ``Retry-After``)
    """

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or GENERIC_CODES.get(status, GENERIC + "error")
        self.headers = headers or {}


class OAuthError(Exception):
    """An OAuth error body ``{"error", "error_description"}`` (token endpoints and 401s).

    :param status: HTTP status code
    :param error: OAuth error identifier, e.g. ``unauthorized``
    :param description: the ``error_description`` text
    """

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class S3Error(Exception):
    """An error of the Data Lake's pre-signed storage URLs, answered as S3 answers (see ``datalake.storage_routes``).

    :param status: HTTP status code
    :param code: S3 error code, e.g. ``AccessDenied``
    :param message: the message
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def token_validation_failed() -> OAuthError:
    """Return the gateway's 401 for a missing, invalid or expired bearer token (§1, ISS #94)."""
    return OAuthError(401, "token_validation_failed", f"[{uuid.uuid4().hex}]")


def service_style(path: str) -> str:
    """Return the error body style for a request path.

    :param path: the request path, e.g. ``/api/iottimeseries/v3/timeseries/x/y``
    """
    parts = path.split("/", 3)
    if len(parts) > 2 and parts[1] == "api":
        return SERVICE_STYLES.get(parts[2], "assets")
    return "oauth"


def error_body(style: str, status: int, code: str, message: str, path: str) -> Any:
    """Build the JSON body of an error in one service's shape.

    :param style: a value of :data:`SERVICE_STYLES` (or ``oauth``)
    :param status: HTTP status code
    :param code: service error code
    :param message: error message
    :param path: request path (used by the Spring-style bulk body)
    """
    logref = uuid.uuid4().hex
    if style == "ts":
        return {"id": logref, "message": message}
    if style == "assets":
        return {"errors": [{"code": code, "errorcode": code, "logref": logref, "message": message}]}
    if style == "aggregates":
        return {"errors": [{"code": code, "logref": logref, "message": message}]}
    if style == "events":
        return [{"logref": logref, "message": message}]
    if style == "bulk":
        return {
            "timestamp": format_ms(now_ms()),
            "status": status,
            "error": _phrase(status),
            "exception": code,
            "message": message,
            "path": path,
        }
    if style == "scim":
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": str(status),
            "detail": message,
        }
    return {"error": code.rsplit(".", 1)[-1], "error_description": message}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def check_if_match(current: str, if_match: str | None, stale_status: int, what: str) -> None:
    """Enforce the optimistic-locking rule: ``If-Match`` is required and must be current.

    Gap (§11): the status for a stale value (412 or 409) is not documented, so it is a config
    option (``stale_etag_status``); a missing header is a 400 ``missingParameter``.

    :param current: the resource's current etag
    :param if_match: the normalised ``If-Match`` value, or ``None``
    :param stale_status: status for a stale value
    :param what: resource description for the message
    :raises ApiError: when missing or stale
    """
    if if_match is None or if_match == "":
        raise ApiError(400, f"If-Match header is required to modify {what}", MISSING_PARAMETER)
    if if_match != "*" and if_match != current:
        raise ApiError(
            stale_status,
            f"If-Match {if_match!r} does not match the current etag {current!r} of {what}",
            GENERIC_CODES[412] if stale_status == 412 else GENERIC_CODES[409],
        )


def lookup(items: Mapping[K, V], key: K, message: str, code: str | None = None, status: int = 404) -> V:
    """Return a stored item, or raise the error a model answers for a missing one.

    :param items: the model's items by key
    :param key: the key asked for
    :param message: the error message naming what is missing
    :param code: service error code (the status's generic code by default)
    :param status: status when missing (404, or 400 where a body names the item)
    :raises ApiError: when ``key`` is not stored
    """
    item = items.get(key)
    if item is None:
        raise ApiError(status, message, code)
    return item
