"""The error tree of the provider.

Every error carries facts, never a secret: API errors keep the HTTP status, the service's own
error code and message, the request id and a short excerpt of the body. One function,
:func:`error_class_for_status`, maps a status to its class, so no caller ever parses ``str(exc)``.

This module imports neither Airflow nor requests; it is usable from plain Python.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
from collections.abc import Mapping
from datetime import timezone
from typing import Any

#: Longest body excerpt kept on an error, in characters. Enough for a service message, short
#: enough that a huge HTML error page does not flood a task log.
BODY_EXCERPT_CHARS = 500

#: Response headers that carry a request id, in the order they are tried. Insights Hub gateways
#: send ``X-Correlation-ID``; ``logref`` in Asset/Event bodies is used when no header is there.
REQUEST_ID_HEADERS = ("x-correlation-id", "x-request-id", "correlation-id")

#: The one retry table for API answers. Retried: throttling and gateway/service unavailability
#: (the gateway's 429 carries ``Retry-After``: mindsphere/mindconnect-nodejs issue 344). 500 and 501 are not:
#: the service failed on this request and would
#: fail the same way again. :attr:`MdspApiError.retryable` and ``client.retry.should_retry`` read it.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Of those, the answers that say the request was refused before it was processed, so even a
#: request that is not idempotent (a POST that creates something) may be sent again.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

#: One field of S3's XML error ``<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>``.
_S3_ERROR_FIELD = re.compile(r"<(Code|Message|RequestId)>([^<]*)</\1>")


def _rebuild(cls: type[MdspError], args: tuple[Any, ...], state: dict[str, Any]) -> MdspError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class MdspError(Exception):
    """Base class of every error raised by the provider.

    Every error pickles and unpickles whole (message and attributes), whatever its constructor
    takes: Airflow and Celery pickle exceptions between processes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class MdspConfigError(MdspError, ValueError):
    """A connection field or parameter is missing or malformed; raised before any network call.

    :param message: what is wrong and how to fix it; never contains a secret.
    :param field: the connection field or parameter at fault, e.g. ``"tenant"``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MdspConnectionError(MdspError):
    """The gateway or token endpoint could not be reached (DNS, TCP, TLS, proxy, dropped connection).

    :param message: what failed, naming the host; never a credential.
    :param request_sent: ``False`` when the request certainly never reached the server (DNS,
        refused connection, connect timeout), so even a non-idempotent call may be sent again.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class MdspTimeoutError(MdspConnectionError):
    """A connect or read timeout elapsed."""


class MdspResponseError(MdspError):
    """A response could not be used: not JSON, an HTML page from a proxy, truncated, or malformed.

    :param message: what was expected and what came instead.
    :param status: HTTP status of the response, when there was one.
    :param body_excerpt: the first :data:`BODY_EXCERPT_CHARS` characters of the body.
    """

    def __init__(self, message: str, *, status: int | None = None, body_excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt


class MdspUnsafeLinkError(MdspResponseError):
    """A paging link or redirect points to another host than the gateway; it is refused, never followed."""


class MdspResponseTooLargeError(MdspResponseError):
    """A response body grew past the size bound (connection field ``max_response_mb``); nothing more is read."""


class MdspPagingError(MdspResponseError):
    """Paging made no progress (a repeated link, records that do not advance) or passed ``max_pages``."""


class MdspApiError(MdspError):
    """An Insights Hub API answered with an error status.

    :param status: HTTP status code.
    :param message: the service's message, or the HTTP reason when the body has none.
    :param code: the service error code (``errorcode``, ``error``, ``id``), when given.
    :param request_id: the gateway's correlation id or the body's ``logref``, for Siemens support.
    :param body_excerpt: the first characters of the raw body.
    :param method: HTTP method of the failed request.
    :param url: URL of the failed request, without its query string.
    :param retry_after: seconds from a ``Retry-After`` header, when present.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        body_excerpt: str = "",
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.method = method
        self.url = url
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        code = f" [{self.code}]" if self.code else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}HTTP {self.status}{code} {self.message}{rid}".strip()

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed if sent again later (:data:`RETRY_STATUSES`)."""
        return self.status in RETRY_STATUSES

    @property
    def not_processed(self) -> bool:
        """Whether the service certainly did not act on the request (:data:`NOT_PROCESSED_STATUSES`)."""
        return self.status in NOT_PROCESSED_STATUSES


class MdspBadRequestError(MdspApiError):
    """400: the request was malformed (invalid parameter, body property, filter)."""


class MdspUnauthorizedError(MdspApiError):
    """401: the token was rejected (expired, revoked, wrong tenant)."""


class MdspForbiddenError(MdspApiError):
    """403: the token lacks a scope or role for this call."""


class MdspNotFoundError(MdspApiError):
    """404: the asset, aspect, event, file or job does not exist."""


class MdspConflictError(MdspApiError):
    """409 or 412: a stale ``If-Match`` ETag or a conflicting write."""


class MdspRateLimitedError(MdspApiError):
    """429: the tenant's quota was exceeded; ``retry_after`` says how long to wait, if sent."""


class MdspServerError(MdspApiError):
    """5xx: the service or gateway failed; 502, 503 and 504 are retried (:data:`RETRY_STATUSES`)."""


class MdspAuthError(MdspError):
    """A token could not be obtained or used: bad credentials, wrong token URL, or missing scope.

    :param message: what failed and which connection field to check.
    :param status: HTTP status of the token endpoint, when it answered.
    :param code: the OAuth ``error`` code, when given.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class MdspTokenExpiredError(MdspAuthError):
    """A user token passed through the connection has expired and cannot be renewed here."""


class MdspPartialWriteError(MdspError):
    """Some asset/aspect pairs of a multi-entity write were refused; every error is listed.

    :param summary: the write summary, with ``errors``.
    """

    def __init__(self, summary: Mapping[str, Any]) -> None:
        self.summary = dict(summary)
        self.errors = list(summary.get("errors") or [])
        lines = "; ".join(
            f"{e.get('entityId')}/{e.get('propertySetName')}: HTTP {e.get('status')} {e.get('message')}"
            for e in self.errors
        )
        super().__init__(
            f"{len(self.errors)} asset/aspect pair(s) were not written ({lines}). {summary.get('records')} records "
            "were accepted. Set fail_on_partial_errors=False to let the task succeed and read the errors from XCom."
        )


class MdspJobFailedError(MdspError):
    """A long-running Insights Hub job (a TS Bulk import) ended in ERROR; the message is the job's."""


class MdspWaitTimeoutError(MdspError, TimeoutError):
    """An operator stopped waiting for a job at its ``timeout``; the job itself may still finish."""


_STATUS_CLASSES: dict[int, type[MdspApiError]] = {
    400: MdspBadRequestError,
    401: MdspUnauthorizedError,
    403: MdspForbiddenError,
    404: MdspNotFoundError,
    409: MdspConflictError,
    412: MdspConflictError,
    429: MdspRateLimitedError,
}


def error_class_for_status(status: int) -> type[MdspApiError]:
    """Return the error class for an HTTP error status; the one place status maps to class."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return MdspServerError
    return MdspApiError


def body_excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """Return the start of a response body, marked when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def parse_error_body(text: str) -> tuple[str | None, str | None, str | None]:
    """Read ``(code, message, logref)`` from any Insights Hub service's error body.

    Shapes, per the Node SDK's ``*-models.ts``: Time Series and IoT File ``{"id","message"}``;
    Asset Management ``{"errors":[{"code","errorcode","logref","message"}]}``; Event Management
    ``[{"logref","message"}]``; TS Bulk Spring-style ``{"status","error","message","path"}``;
    OAuth ``{"error","error_description"}``; the Data Lake's pre-signed storage URLs answer as S3,
    in XML (:func:`_s3_error`). Anything else gives ``(None, None, None)``.
    """
    try:
        body: Any = json.loads(text)
    except (ValueError, TypeError):
        return _s3_error(text)
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]
    if not isinstance(body, Mapping):
        return None, None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        code = first.get("errorcode") or first.get("code")
        return _str(code), _str(first.get("message")), _str(first.get("logref"))
    if "error_description" in body or ("error" in body and "status" not in body):
        return _str(body.get("error")), _str(body.get("error_description")), None
    if "status" in body and "path" in body:
        return _str(body.get("error")), _str(body.get("message")), None
    return _str(body.get("id")) or _str(body.get("code")), _str(body.get("message")), _str(body.get("logref"))


def _s3_error(text: Any) -> tuple[str | None, str | None, str | None]:
    """Read ``(Code, Message, RequestId)`` from S3's XML error body.

    The Data Lake's pre-signed URLs are S3's (Siemens docs, Integrated Data Lake overview), so a
    refused upload or download answers as S3 does (AWS S3 API reference, "Error responses").
    """
    if not isinstance(text, str) or "<Error>" not in text:
        return None, None, None
    found = {name: html.unescape(value).strip() for name, value in _S3_ERROR_FIELD.findall(text)}
    return _str(found.get("Code")), _str(found.get("Message")), _str(found.get("RequestId"))


#: The attributes an error carries through a trigger event (plain values; never a body excerpt).
_RECORDED_ATTRIBUTES = (
    "field",
    "request_sent",
    "status",
    "message",
    "code",
    "request_id",
    "method",
    "url",
    "retry_after",
)


def error_record(error: MdspError) -> dict[str, Any]:
    """Return ``error`` as plain JSON (kind, message, attributes), to cross from the triggerer to the task.

    :param error: an error raised while a trigger checked.
    """
    attributes = {name: getattr(error, name) for name in _RECORDED_ATTRIBUTES if hasattr(error, name)}
    plain = {name: value for name, value in attributes.items() if value is None or isinstance(value, str | int | float)}
    return {"kind": type(error).__name__, "message": str(error), "attributes": plain}


def error_from_record(record: Any) -> MdspError | None:
    """Return the error :func:`error_record` described, of the same kind; ``None`` for anything else.

    So a deferred task raises what the same check raises in the worker: a configuration or
    credentials error still fails the task at once, a 404 is still a :class:`MdspNotFoundError`.

    :param record: the ``error`` of a trigger event.
    """
    if not isinstance(record, Mapping):
        return None
    kind = globals().get(str(record.get("kind")))
    if not (isinstance(kind, type) and issubclass(kind, MdspError)):
        return None
    attributes = record.get("attributes")
    state = (
        {k: v for k, v in attributes.items() if k in _RECORDED_ATTRIBUTES} if isinstance(attributes, Mapping) else {}
    )
    if issubclass(kind, MdspApiError | MdspResponseError):
        state.setdefault("body_excerpt", "")  # never carried: the attribute exists, empty
    return _rebuild(kind, (str(record.get("message") or ""),), state)


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def redact_url(url: str) -> str:
    """Return a URL without its user and password, for messages and logs.

    :param url: any URL; ``https://user:secret@host/x`` becomes ``https://***@host/x``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{tail}"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: seconds, or an HTTP date (RFC 9110 §10.2.3); junk gives ``None``.

    :param value: the header value, e.g. ``120`` or ``Wed, 21 Oct 2026 07:28:00 GMT``.
    :param now: the current time in seconds since the epoch, for a date (default: the provider's clock,
        :func:`airflow_provider_mdsp.timeutil.epoch`, which tests replace).
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        if now is None:
            from airflow_provider_mdsp import timeutil  # imports this module; so here, not at the top

            now = timeutil.epoch()
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def api_error(
    status: int,
    text: str,
    headers: Mapping[str, str],
    *,
    method: str | None = None,
    url: str | None = None,
    reason: str = "",
) -> MdspApiError:
    """Build the typed error for an error response from its status, body text and headers.

    :param status: HTTP status code.
    :param text: response body as text.
    :param headers: response headers (any case-insensitive or lower-case mapping).
    :param method: request method, for the message.
    :param url: request URL; its query string is dropped so no parameter leaks into logs.
    :param reason: HTTP reason phrase, used when the body has no message.
    """
    code, message, logref = parse_error_body(text)
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = next((lower[h] for h in REQUEST_ID_HEADERS if lower.get(h)), None) or logref
    cls = error_class_for_status(status)
    return cls(
        status,
        message or reason or "error",
        code=code,
        request_id=request_id,
        body_excerpt=body_excerpt(text),
        method=method,
        url=redact_url(url.split("?", 1)[0]) if url else None,
        retry_after=parse_retry_after(lower.get("retry-after")),
    )
