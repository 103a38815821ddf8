"""Settings of an Insights Hub client: gateway, timeouts, TLS, proxy and retry limits.

A plain frozen value built once (by the hook, from an Airflow Connection, or by hand) and shared by
the token endpoint and the API calls, so a proxy or CA bundle applies to both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_provider_mdsp.exceptions import MdspConfigError

#: Seconds to wait for a TCP/TLS connection to the gateway.
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Seconds to wait for response bytes. The gateway itself cuts requests at 60 s (IoT File overview:
#: slower transfers get 502), so waiting longer only delays the inevitable.
DEFAULT_READ_TIMEOUT = 60.0
#: Retries after the first attempt, for retryable failures (connection errors, 429, 502/503/504).
DEFAULT_MAX_RETRIES = 5
#: Longest single wait between attempts, also the cap applied to a server's ``Retry-After``.
DEFAULT_MAX_RETRY_WAIT = 60.0
#: First backoff step in seconds; doubled per attempt, jittered.
DEFAULT_BACKOFF_BASE = 0.5
#: Upper bound in seconds on all attempts of one call together, waits included (connection field
#: ``call_timeout``).
DEFAULT_MAX_RETRY_TIME = 300.0
#: Wall-clock deadline in seconds of one attempt's whole response: connect, headers and body
#: (connection field ``response_timeout``). The read timeout bounds each wait for bytes; this
#: bounds a server that trickles them. The gateway ends requests after 60 s (Siemens docs, IoT File overview),
#: so twice that
#: only fires on a misbehaving server or proxy.
DEFAULT_RESPONSE_TIMEOUT = 120.0
#: Largest response body accepted, decoded, in bytes (connection field ``max_response_mb``).
#: A time-series page of 2,000 records is about 1 MB; streamed file downloads are not bounded.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: Largest ``max_response_mb`` accepted (our choice): an answer is held in memory whole, and no
#: JSON answer of Insights Hub comes near 16 GiB; a larger value is a typo (bytes for MiB).
MAX_RESPONSE_MB = 16_384
#: Most pages one read may follow (connection field ``max_pages``): 10,000 pages of 2,000
#: time-series records are 20 million records.
DEFAULT_MAX_PAGES = 10_000
#: Largest duration setting accepted (timeouts, waits), in seconds: one day. Larger values are
#: typos (``inf``, a value in milliseconds) that would hold a task for days.
MAX_SECONDS = 86_400.0
#: Largest ``max_retries`` accepted.
MAX_RETRIES_LIMIT = 20


@dataclass(frozen=True)
class ClientSettings:
    """How to reach Insights Hub: gateway URL, timeouts, TLS, proxy and retry limits.

    :param gateway_url: the region's gateway, e.g. ``https://gateway.eu1.mindsphere.io``.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for response data.
    :param verify: ``True`` to verify TLS with the system CAs, ``False`` to skip (not advised), or
        the path of a CA bundle file.
    :param proxy: proxy URL for HTTPS and HTTP, e.g. ``http://proxy.corp:3128``.
    :param max_retries: retries after the first attempt for retryable failures.
    :param max_retry_wait: cap in seconds for one wait; a server's ``Retry-After`` beyond it is refused at once
        with :class:`~airflow_provider_mdsp.exceptions.MdspRateLimitedError`.
    :param backoff_base: first backoff step in seconds.
    :param max_retry_time: cap in seconds on one call's attempts and waits together.
    :param response_timeout: wall-clock deadline in seconds of one attempt's whole response.
    :param max_response_bytes: largest decoded response body accepted.
    :param max_pages: most pages one paged read may follow.
    :param user_agent: ``User-Agent`` header sent with every request.
    """

    gateway_url: str
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    verify: bool | str = True
    # Hidden from repr: a proxy URL may carry a user and password.
    proxy: str | None = field(default=None, repr=False)
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    backoff_base: float = DEFAULT_BACKOFF_BASE
    max_retry_time: float = DEFAULT_MAX_RETRY_TIME
    response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    user_agent: str = "airflow-provider-mdsp"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gateway_url", normalize_gateway_url(self.gateway_url))
        for name in ("connect_timeout", "read_timeout", "max_retry_wait", "max_retry_time", "response_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_SECONDS:
                raise MdspConfigError(
                    f"{name} must be a number of seconds above 0 and at most {MAX_SECONDS:.0f}", field=name
                )
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES_LIMIT:
            raise MdspConfigError(
                f"max_retries must be a whole number from 0 to {MAX_RETRIES_LIMIT}", field="max_retries"
            )
        for name in ("max_response_bytes", "max_pages"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MdspConfigError(f"{name} must be a whole number of at least 1", field=name)
        if not (math.isfinite(self.backoff_base) and 0 <= self.backoff_base <= MAX_SECONDS):
            raise MdspConfigError("backoff_base must be 0 or more seconds", field="backoff_base")

    @property
    def timeout(self) -> tuple[float, float]:
        """The ``(connect, read)`` timeout pair passed to every request."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def gateway_host(self) -> str:
        """Host (and port) of the gateway; paging links to any other host are refused."""
        return urlsplit(self.gateway_url).netloc.lower()


def normalize_gateway_url(value: str, *, field: str = "host") -> str:
    """Return the gateway as ``scheme://host[:port][/path]`` without a trailing slash.

    A bare region such as ``eu1`` expands to ``https://gateway.eu1.mindsphere.io``, as the
    Insights Hub Node CLI does (Node SDK utils.ts addAndStoreConfiguration); a host without a scheme gets
    ``https://``.

    :param value: what the user typed in the connection's host field.
    :param field: the connection field named in the error message.
    """
    text = (value or "").strip()
    if not text:
        raise MdspConfigError(
            f"The gateway URL is empty: set connection field '{field}' to your region's gateway, "
            "e.g. https://gateway.eu1.mindsphere.io",
            field=field,
        )
    if "://" not in text and "." not in text and "/" not in text and ":" not in text:
        text = f"https://gateway.{text}.mindsphere.io"
    elif "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket, "http://[::1"
        raise MdspConfigError(f"Connection field '{field}' is not a well-formed URL", field=field) from None
    if parts.username or parts.password:
        raise MdspConfigError(
            f"Connection field '{field}' must not contain credentials: put the client ID in 'login' "
            "and the client secret in 'password'",
            field=field,
        )
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise MdspConfigError(
            f"Connection field '{field}' is not a gateway URL: expected something like "
            "https://gateway.eu1.mindsphere.io (scheme, host, no query string)",
            field=field,
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise MdspConfigError(f"Connection field '{field}' has an invalid port", field=field) from None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
