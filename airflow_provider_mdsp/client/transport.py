"""One ``requests.Session`` to the gateway: URLs, timeouts, bearer token, retries and error mapping.

Every API call of the provider goes through :meth:`Transport.request`, so timeouts, TLS, proxies,
retries, the one-time token renewal after a 401 and the mapping of error responses to the
:mod:`~airflow_provider_mdsp.exceptions` tree exist exactly once.

Hostile networks: the bearer token is applied by ``requests``' auth mechanism
(:class:`BearerAuth`), so a ``~/.netrc`` entry or a session default can never replace it.
Redirects are followed only to the gateway's own scheme and host (at most
:data:`MAX_REDIRECTS`); any other target is an :class:`~airflow_provider_mdsp.exceptions.MdspUnsafeLinkError`
and nothing is sent there. Each attempt has a wall-clock deadline for its whole response
(``response_timeout``, see :mod:`~airflow_provider_mdsp.client.deadline`) and a bound on its
decoded size (``max_response_bytes``); the call as a whole has ``max_retry_time``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import urllib.request
from collections.abc import Callable, Mapping
from typing import IO, Any, Protocol
from urllib.parse import urljoin, urlsplit

import msgspec
import requests
import requests.auth

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.deadline import Watchdog, WatchedAdapter, read_body
from airflow_provider_mdsp.client.pacing import RatePacer
from airflow_provider_mdsp.client.retry import RetryLoop, is_idempotent
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.exceptions import (
    MdspAuthError,
    MdspConnectionError,
    MdspError,
    MdspResponseError,
    MdspTimeoutError,
    MdspUnsafeLinkError,
    api_error,
    body_excerpt,
    parse_retry_after,
)

#: Connections kept open per host: the bounded fan-out of mapped reads, and concurrent window reads of up to
#: this many threads (client/windows.py).
POOL_SIZE = 64
#: Same-host redirects followed per attempt.
MAX_REDIRECTS = 5
#: Redirect statuses; 307 and 308 keep the method and body, the others turn into a GET.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Bytes of an error answer read for its message.
ERROR_BODY_BYTES = 64 * 1024


class BearerAuth(requests.auth.AuthBase):
    """Put the bearer token on a request through ``requests``' auth hook.

    Passing an ``auth`` object keeps ``requests`` from applying ``~/.netrc`` or environment
    credentials, which would replace the token on every call.

    :param token: the access token.
    """

    def __init__(self, token: str) -> None:
        if _UNSENDABLE.search(token):
            # A line break would split the header; requests would fail mid-request, retried for nothing.
            raise MdspAuthError("The access token contains a space, line break or control character; it cannot be sent")
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


#: Characters a bearer token cannot carry in a header: controls, space, DEL.
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]")


class _TokenFailure(Exception):
    """Wraps an error of the token fetch, which retries on its own policy: the API loop must not retry it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class TokenSource(Protocol):
    """Where the transport gets bearer tokens (``auth.TokenProvider`` fits)."""

    def get_token(self, *, timeout: float | None = None) -> Any: ...

    def invalidate(self, token: Any = None) -> None: ...


def build_session(settings: ClientSettings) -> requests.Session:
    """Create the session used for the token endpoint and the APIs alike: TLS, proxy, pool.

    The environment is read once here, not on every call, unless a proxy variable must be checked
    against ``NO_PROXY`` per URL (:func:`reads_environment_per_call`): ``requests`` otherwise looks
    up the proxy variables for each request, about a fifth of a loopback call's client time. The
    CA bundle then follows ``requests``' own rule, read once: ``REQUESTS_CA_BUNDLE`` (else
    ``CURL_CA_BUNDLE``), when set, is what verifies TLS.

    :param settings: the client settings.
    """
    session = requests.Session()
    session.verify = settings.verify
    if settings.proxy:
        session.proxies = {"http": settings.proxy, "https": settings.proxy}
    if not reads_environment_per_call(settings, urllib.request.getproxies()):
        # What requests would take from the environment on each call: only the CA bundle variables
        # (no proxy variable applies, and every call passes its own auth, so ~/.netrc is never read).
        session.trust_env = False
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or settings.verify
    session.headers["User-Agent"] = settings.user_agent
    adapter = WatchedAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def reads_environment_per_call(settings: ClientSettings, environment_proxies: Mapping[str, str]) -> bool:
    """Tell whether calls must look at the environment's proxy settings each time (``trust_env``).

    Pure. Only when the connection sets no ``proxy`` and the environment names one
    (``HTTPS_PROXY``, ``ALL_PROXY`` …): then ``NO_PROXY`` decides per URL, as ``requests`` does.
    ``NO_PROXY`` alone names no proxy, so without proxy variables every call gets the same answer.
    With the connection's ``proxy`` set the environment is not read: that proxy is used for every
    call (with per-call look-ups ``requests`` let an ``HTTPS_PROXY`` variable replace it).

    :param settings: the client settings.
    :param environment_proxies: ``urllib.request.getproxies()``, scheme to proxy URL (``no`` is ``NO_PROXY``).
    """
    return not settings.proxy and any(key != "no" for key in environment_proxies)


def translate_request_error(exc: requests.RequestException, url: str) -> Exception:
    """Turn a requests exception into the provider's error, naming the host and nothing secret.

    :param exc: what requests raised.
    :param url: the request URL (only its host is shown).
    """
    host = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return MdspTimeoutError(f"Timed out connecting to {host}", request_sent=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return MdspTimeoutError(f"Timed out waiting for {host} to answer", request_sent=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return MdspConnectionError(
            f"TLS verification failed for {host}: set connection field 'ca_bundle' to your "
            "organisation's CA bundle, or check the proxy",
            request_sent=False,
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return MdspConnectionError(
            f"The proxy refused or failed the connection to {host}: check connection field 'proxy'",
            request_sent=False,
        )
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_sent(exc):
        return MdspConnectionError(f"Could not connect to {host}: {_reason(exc)}", request_sent=False)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return MdspConnectionError(f"Invalid URL for host {host!r}", request_sent=False)
    return MdspConnectionError(f"Connection to {host} failed mid-request: {_reason(exc)}", request_sent=True)


def copy_body(response: requests.Response, handle: IO[bytes], url: str, *, chunk_size: int) -> int:
    """Copy a streamed response's body into a binary file object, close the response, return the bytes written.

    :param response: a response requested with ``stream=True``.
    :param handle: where the bytes go.
    :param url: the request URL, for the error of a connection lost mid-body (:func:`translate_request_error`).
    :param chunk_size: bytes read at a time.
    """
    written = 0
    try:
        for chunk in response.iter_content(chunk_size):
            handle.write(chunk)
            written += len(chunk)
    except requests.RequestException as exc:
        raise translate_request_error(exc, url) from None
    finally:
        response.close()
    return written


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    # urllib3 wraps refused connections and DNS failures as NewConnectionError/NameResolutionError
    # inside MaxRetryError; "connection aborted" (RemoteDisconnected) means it may have been sent.
    text = repr(exc.args[0]) if exc.args else ""
    return "NewConnectionError" in text or "NameResolutionError" in text or "Failed to resolve" in text


def _reason(exc: Exception) -> str:
    # The class name is informative and can hold no credential; urllib3 messages may echo URLs.
    inner = exc.args[0] if exc.args else exc
    return type(getattr(inner, "reason", inner)).__name__


def _rewinder(data: Any) -> Callable[[], object] | None:
    """Return a function putting a seekable file-object body back where it started, else ``None``."""
    if data is None or not hasattr(data, "read"):
        return None
    try:
        if not data.seekable():
            return None
        start = data.tell()
    except (AttributeError, OSError, ValueError):
        return None
    return lambda: data.seek(start)


def parse_json(response: requests.Response) -> Any:
    """Return the JSON body of a successful response, or ``None`` when it is empty.

    The body is decoded from its bytes with msgspec (it ships with Airflow 3), several times faster
    than ``json.loads`` of ``response.text``, which also guesses the charset first. Documents msgspec
    refuses (``NaN`` literals, numbers beyond a double) are decoded by the standard library, so the
    values returned are those ``json.loads`` gives.

    :param response: a response whose status was already checked.
    :raises MdspResponseError: the body is an HTML page (a proxy or login page), truncated, or not JSON.
    """
    content = response.content or b""
    start = content.lstrip()[:1]
    if not start:
        return None
    ctype = response.headers.get("Content-Type", "")
    if "html" in ctype or start == b"<":
        raise MdspResponseError(
            f"Expected JSON from {_where(response)} but got an HTML page; a proxy, firewall or login "
            "page answered instead of Insights Hub (check connection fields 'host' and 'proxy')",
            status=response.status_code,
            body_excerpt=body_excerpt(response.text),
        )
    try:
        return decode_json(content)
    except RecursionError:
        raise MdspResponseError(
            f"The answer from {_where(response)} nests JSON deeper than the parser's limit of about "
            f"{sys.getrecursionlimit()} levels; refused",
            status=response.status_code,
        ) from None
    except ValueError:
        raise MdspResponseError(
            f"The answer from {_where(response)} is not valid JSON (truncated or corrupt body)",
            status=response.status_code,
            body_excerpt=body_excerpt(response.text),
        ) from None


def decode_json(content: bytes | str) -> Any:
    """Decode a JSON document with msgspec, or with the standard library where msgspec refuses it.

    :param content: the document (UTF-8 bytes or text).
    :raises ValueError: the document is not JSON.
    """
    try:
        return _DECODE(content)
    except msgspec.MsgspecError:
        # NaN/Infinity literals and numbers beyond a double: json.loads accepts them (or raises ValueError).
        return json.loads(content)


_DECODE = msgspec.json.Decoder().decode


def _error_text(response: requests.Response, limit: int = ERROR_BODY_BYTES) -> str:
    """Return an error answer's text, at most ``limit`` bytes of it, and close it."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(8192):
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    except requests.RequestException:
        pass
    finally:
        response.close()
    return b"".join(chunks)[:limit].decode(response.encoding or "utf-8", errors="replace")


def _where(response: requests.Response) -> str:
    request = response.request
    url = (request.url or "").split("?", 1)[0] if request else ""
    return f"{request.method} {url}" if request else "the server"


class Transport:
    """Send requests to one gateway with a bearer token, retries and typed errors.

    :param settings: gateway, timeouts, TLS, proxy and retry limits.
    :param tokens: the token source; a 401 invalidates its token and the call is sent once more.
    :param session: a ready session (tests, sharing); by default one is built from ``settings``.
    :param sleep: sleep function used between attempts; tests inject a recorder.
    """

    def __init__(
        self,
        settings: ClientSettings,
        tokens: TokenSource,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = timeutil.sleep,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.session = session or build_session(settings)
        self._sleep = sleep
        #: Paces every call once set (concurrent reads set one); ``None`` sends at once.
        self.pacer: RatePacer | None = None
        self._auth: BearerAuth | None = None

    def url_for(self, path_or_url: str) -> str:
        """Return the absolute URL for an API path, refusing absolute URLs to other hosts.

        :param path_or_url: ``/api/...`` path, or an absolute URL from a paging link.
        """
        if "://" not in path_or_url:
            return self.settings.gateway_url + "/" + path_or_url.lstrip("/")
        parts = urlsplit(path_or_url)
        host = parts.netloc.lower()
        if host != self.settings.gateway_host:
            raise MdspUnsafeLinkError(
                f"Refusing to follow a link to host {host!r}: only the gateway "
                f"{self.settings.gateway_host!r} is trusted with the bearer token"
            )
        # Keep the gateway's scheme: an ``http://`` link from a service behind a TLS-terminating
        # proxy must not send the bearer token in clear text.
        return parts._replace(scheme=urlsplit(self.settings.gateway_url).scheme).geturl()

    def resolve_link(self, current_url: str, link: str) -> str:
        """Resolve a (possibly relative) paging link against the page it came from, same host only.

        :param current_url: URL of the page holding the link.
        :param link: the link as the server sent it.
        """
        return self.url_for(urljoin(current_url, link))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        idempotent: bool | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one API call with retries and return the successful response.

        :param method: HTTP method.
        :param path: ``/api/...`` path or same-host absolute URL.
        :param params: query parameters (``None`` values are dropped).
        :param json: JSON body.
        :param data: raw body (bytes, file object or iterator).
        :param headers: extra headers.
        :param stream: leave the body unread, for downloads.
        :param idempotent: whether a retry after the server may have acted is harmless; defaults by
            method (POST is not). Set ``True`` for POSTs that only read.
        :param timeout: ``(connect, read)`` override.
        :raises MdspApiError: the API answered with an error status (typed by status).
        :raises MdspConnectionError: the gateway could not be reached after the retries.
        """
        url = self.url_for(path)
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        if idempotent is None:
            idempotent = is_idempotent(method)
        settings, rewind = self.settings, _rewinder(data)
        if data is not None and hasattr(data, "read") and rewind is None:
            # A stream that cannot seek is consumed by the first attempt, so it is sent once only:
            # a resend (even after a 429) would upload an empty or partial body. Seekable file
            # objects are rewound before each send instead.
            idempotent, settings = False, dataclasses.replace(settings, max_retries=0)
        loop = RetryLoop(settings, idempotent=idempotent, sleep=self._sleep)

        def attempt() -> requests.Response:
            return self._attempt(
                method,
                url,
                max(min(self.settings.response_timeout, loop.remaining()), 0.001),
                rewind=rewind,
                params=clean,
                json=json,
                data=data,
                headers=headers,
                stream=stream,
                timeout=timeout or self.settings.timeout,
            )

        try:
            return loop(attempt)
        except _TokenFailure as failure:
            # The token fetch already retried on its own policy; one loop per request.
            raise failure.error from None

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one API call like :meth:`request` and return its parsed JSON body (``None`` if empty)."""
        return parse_json(self.request(method, path, **kwargs))

    def _attempt(self, method: str, url: str, seconds: float, *, stream: bool, **kwargs: Any) -> requests.Response:
        """One attempt under a watchdog of ``seconds``: token, send, redirects and (unless streamed) the body."""
        with Watchdog(seconds) as watchdog:
            try:
                response = self._send_with_token(method, url, seconds, **kwargs)
                if not stream:
                    read_body(response, self.settings.max_response_bytes)
            except requests.RequestException as exc:
                if watchdog.fired:
                    raise self._deadline_error(url, seconds) from None
                raise translate_request_error(exc, url) from None
            except MdspConnectionError:
                if watchdog.fired:
                    raise self._deadline_error(url, seconds) from None
                raise
            except _TokenFailure as failure:
                if watchdog.fired and isinstance(failure.error, MdspConnectionError):
                    raise _TokenFailure(self._deadline_error(url, seconds)) from None
                raise
            if watchdog.fired:  # a body cut off by the watchdog can look complete
                response.close()
                raise self._deadline_error(url, seconds)
        return response

    def _deadline_error(self, url: str, seconds: float) -> MdspTimeoutError:
        host = urlsplit(url).hostname or url
        if seconds < self.settings.response_timeout:
            setting = f"the call's deadline, connection field 'call_timeout' ({self.settings.max_retry_time:g} s)"
        else:
            setting = f"connection field 'response_timeout' ({self.settings.response_timeout:g} s)"
        return MdspTimeoutError(
            f"No complete answer from {host} within {seconds:.3g} s: {setting}; the server or a proxy is too slow",
            request_sent=True,
        )

    def _token(self, seconds: float) -> Any:
        try:
            return self.tokens.get_token(timeout=seconds)
        except MdspError as exc:
            raise _TokenFailure(exc) from None

    def _send_with_token(
        self, method: str, url: str, seconds: float, *, rewind: Callable[[], object] | None = None, **kwargs: Any
    ) -> requests.Response:
        token = self._token(seconds)
        if rewind is not None:
            rewind()
        response = self._send(method, url, token, **kwargs)
        replayable = rewind is not None or not hasattr(kwargs.get("data"), "read")
        if response.status_code == 401 and replayable:
            # The token was revoked or expired early: renew it once and resend (google-auth caps
            # refresh attempts the same way); a second 401 is a real authorization failure.
            self.tokens.invalidate(token)
            response.close()
            token = self._token(seconds)
            if rewind is not None:
                rewind()
            response = self._send(method, url, token, **kwargs)
        if response.status_code >= 400:
            raise self._error(method, url, response, token.access_token)
        return response

    def _send(self, method: str, url: str, token: Any, **kwargs: Any) -> requests.Response:
        """Send with the bearer token, following redirects only within the gateway's scheme and host."""
        headers = {"Accept": "application/json", **dict(kwargs.pop("headers") or {})}
        auth = self._auth
        if auth is None or auth.token != token.access_token:  # checked once per token, not per call
            auth = self._auth = BearerAuth(token.access_token)
        for _ in range(MAX_REDIRECTS + 1):
            pacer = self.pacer
            sent_at = pacer.before_send() if pacer is not None else 0.0
            try:
                response = self.session.request(
                    method, url, headers=headers, auth=auth, allow_redirects=False, stream=True, **kwargs
                )
            except requests.RequestException as exc:
                raise translate_request_error(exc, url) from None
            if pacer is not None:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                pacer.after_response(response.status_code, sent_at, retry_after)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            response.close()
            target = self._redirect_target(method, url, urljoin(url, location), response.status_code)
            if response.status_code not in (307, 308) and method not in ("GET", "HEAD"):
                method, kwargs = "GET", {k: v for k, v in kwargs.items() if k not in ("json", "data")}
            url, kwargs = target, {**kwargs, "params": None}
        raise MdspResponseError(f"{method} {url.split('?', 1)[0]}: more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, method: str, url: str, target: str, status: int) -> str:
        """Return a redirect's target if it stays on the gateway's scheme and host, else refuse it."""
        parts, gateway = urlsplit(target), urlsplit(self.settings.gateway_url)
        if (parts.scheme, parts.netloc.lower()) != (gateway.scheme, gateway.netloc.lower()):
            where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            raise MdspUnsafeLinkError(
                f"{method} {url.split('?', 1)[0]} was redirected (HTTP {status}) to {where}; redirects are followed "
                f"only within the gateway {gateway.scheme}://{gateway.netloc}, so nothing was sent there",
                status=status,
            )
        return target

    def _error(self, method: str, url: str, response: requests.Response, access_token: str = "") -> Exception:
        text = _error_text(response, self.settings.max_response_bytes)
        if access_token:
            # Some proxies and debug gateways echo the request headers in their error page; the
            # bearer token must not travel on into the error message, its excerpt or a task log.
            text = text.replace(access_token, "***")
        return api_error(
            response.status_code, text, response.headers, method=method, url=url, reason=response.reason or ""
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()
