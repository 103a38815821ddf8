"""Fault injection: settings, the deterministic decision per request, and the ASGI middleware.

Faults apply to ``/api/...`` calls; latency and 503 errors also apply to the token endpoints
when ``token_endpoints`` is set. ``/_emulator/...`` is never faulted. Order per request:
latency, then rate limit (429 + ``Retry-After``), then the per-tenant quotas of the real gateway
(:mod:`.quotas`, on by default), then a 503, then a dropped connection.
The random draws come from one ``random.Random(seed)``, reset whenever settings change, so a
fixed request sequence sees the same faults on every run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from .errors import error_body, service_style
from .quotas import DEFAULT_QUOTAS, QuotaCounter, Quotas, QuotaSettingsError, endpoint_of, parse_quotas

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from .state import EmulatorState

TOKEN_PATHS = ("/oauth/token", "/token_keys")
TOKEN_PREFIX = "/api/technicaltokenmanager/"  # noqa: S105 - a path
# The body a dropped response promises but never completes.
_DROP_PROMISED_BYTES = 4096


class FaultSettingsError(ValueError):
    """Raised for an invalid fault setting; the message names it."""


@dataclass(frozen=True)
class FaultSettings:
    """Fault knobs (all off by default, but for the real service's per-tenant quotas).

    :param latency_ms: added delay per request
    :param rate_limit: ``(requests, window_s)`` allowed per client id, or ``None``
    :param retry_after_s: ``Retry-After`` sent with a 429; default is the time left in the window
    :param error_rate: fraction of requests answered 503
    :param drop_rate: fraction of requests whose connection is cut mid-response
    :param token_lifetime_s: access-token lifetime override
    :param seed: seed of the fault RNG
    :param token_endpoints: also delay/fail the token endpoints
    :param quotas: per-tenant, per-endpoint quotas per 30 s and per hour (:mod:`.quotas`), or
        ``None`` for none; on by default with generous values
    """

    latency_ms: float = 0.0
    rate_limit: tuple[int, float] | None = None
    retry_after_s: int | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    token_lifetime_s: int | None = None
    seed: int = 0
    token_endpoints: bool = False
    quotas: Quotas | None = DEFAULT_QUOTAS

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FaultSettings:
        """Build settings from JSON; ``rate_limit`` may be ``"N/S"``, ``[N, S]`` or an object.

        :param data: mapping of setting names to values
        :raises FaultSettingsError: for unknown names or out-of-range values
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FaultSettingsError(f"unknown fault setting(s): {sorted(unknown)}")
        if data.get("rate_limit") is not None:
            data["rate_limit"] = parse_rate_limit(data["rate_limit"])
        if "quotas" in data:
            try:
                data["quotas"] = parse_quotas(data["quotas"])
            except QuotaSettingsError as exc:
                raise FaultSettingsError(str(exc)) from exc
        try:
            settings = cls(**data)
        except TypeError as exc:
            raise FaultSettingsError(str(exc)) from exc
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check ranges.

        :raises FaultSettingsError: naming the bad setting
        """
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise FaultSettingsError(f"{name} must be a fraction between 0 and 1")
        if not isinstance(self.latency_ms, (int, float)) or self.latency_ms < 0:
            raise FaultSettingsError("latency_ms must be >= 0")
        if self.token_lifetime_s is not None and self.token_lifetime_s < 1:
            raise FaultSettingsError("token_lifetime_s must be >= 1")
        if self.retry_after_s is not None and self.retry_after_s < 0:
            raise FaultSettingsError("retry_after_s must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON (``rate_limit`` as ``{"requests", "window_s"}``)."""
        data = asdict(self)
        if self.rate_limit is not None:
            data["rate_limit"] = {"requests": self.rate_limit[0], "window_s": self.rate_limit[1]}
        return data


def parse_rate_limit(value: Any) -> tuple[int, float]:
    """Parse ``"N/S"``, ``[N, S]`` or ``{"requests": N, "window_s": S}``.

    :param value: the rate limit setting
    :raises FaultSettingsError: when malformed
    """
    try:
        if isinstance(value, str):
            count, _, window = value.partition("/")
            result = (int(count), float(window or 1))
        elif isinstance(value, dict):
            result = (int(value["requests"]), float(value.get("window_s", 1)))
        else:
            result = (int(value[0]), float(value[1]))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise FaultSettingsError(f"rate_limit must look like 'N/SECONDS', got {value!r}") from exc
    if result[0] < 1 or result[1] <= 0:
        raise FaultSettingsError("rate_limit needs N >= 1 requests per a positive window")
    return result


@dataclass(frozen=True)
class Decision:
    """What to do with one request.

    :param latency_s: delay before anything else
    :param action: ``None``, ``"rate_limit"``, ``"quota"``, ``"error"`` or ``"drop"``
    :param retry_after_s: ``Retry-After`` value for a 429
    """

    latency_s: float = 0.0
    action: str | None = None
    retry_after_s: int = 0


class FaultInjector:
    """Decide, per request, which fault to inject. Pure state, no I/O.

    :param settings: initial settings
    :param clock: monotonic seconds clock (injectable for tests)
    :param wall_clock: epoch seconds; the quota windows are aligned to it
    """

    def __init__(
        self,
        settings: FaultSettings,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.quota_counter = QuotaCounter(wall_clock)
        self.configure(settings)

    def configure(self, settings: FaultSettings) -> None:
        """Replace the settings; reset the RNG and all rate-limit windows.

        :param settings: the new settings
        """
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._windows: dict[str, tuple[float, int]] = {}
        self.quota_counter.reset()

    def decide(self, client_id: str, token_endpoint: bool, tenant: str = "", endpoint: str = "") -> Decision:
        """Return the fault for one request.

        :param client_id: caller's client id (rate limits are per client)
        :param token_endpoint: the request is for a token endpoint
        :param tenant: caller's tenant (quotas are per tenant)
        :param endpoint: the endpoint the call counts against (see :func:`.quotas.endpoint_of`)
        """
        s = self.settings
        if token_endpoint and not s.token_endpoints:
            return Decision()
        latency = s.latency_ms / 1000.0
        if not token_endpoint and s.rate_limit is not None:
            retry_after = self._rate_limited(client_id, *s.rate_limit)
            if retry_after is not None:
                return Decision(latency, "rate_limit", retry_after)
        if not token_endpoint and s.quotas is not None:
            wait = self.quota_counter.check(s.quotas, tenant, endpoint)
            if wait is not None:
                return Decision(latency, "quota", s.retry_after_s if s.retry_after_s is not None else wait)
        if s.error_rate and self._rng.random() < s.error_rate:
            return Decision(latency, "error")
        if not token_endpoint and s.drop_rate and self._rng.random() < s.drop_rate:
            return Decision(latency, "drop")
        return Decision(latency)

    def _rate_limited(self, client_id: str, limit: int, window_s: float) -> int | None:
        now = self._clock()
        start, count = self._windows.get(client_id, (now, 0))
        if now - start >= window_s:
            start, count = now, 0
        if count >= limit:
            self._windows[client_id] = (start, count)
            if self.settings.retry_after_s is not None:
                return self.settings.retry_after_s
            return max(1, math.ceil(start + window_s - now))
        self._windows[client_id] = (start, count + 1)
        return None


class DroppedConnection(Exception):
    """Raised after a response has started, so the server cuts the connection."""


class _HideDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def install_log_filter() -> None:
    """Keep injected drops out of uvicorn's error log (they are intended)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDrops) for f in logger.filters):
        logger.addFilter(_HideDrops())


def claims_of(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """Read the claims of an unverified bearer token (rate-limit and quota keys only).

    :param headers: raw ASGI headers
    """
    for name, value in headers:
        if name == b"authorization":
            try:
                payload = value.split(b" ", 1)[1].split(b".")[1]
                data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            except (IndexError, ValueError, AttributeError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


class FaultMiddleware:
    """Pure ASGI middleware that injects faults and counts calls.

    :param app: the wrapped ASGI app
    :param state: the emulator state holding the injector and the counters
    """

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        token_endpoint = path in TOKEN_PATHS or path.startswith(TOKEN_PREFIX)
        if not (token_endpoint or path.startswith("/api/")):
            await self.app(scope, receive, send)
            return
        claims = claims_of(scope["headers"])
        decision = self.state.faults.decide(
            str(claims.get("client_id", "anonymous")),
            token_endpoint,
            tenant=str(claims.get("ten", "")),
            endpoint=endpoint_of(scope.get("method", ""), path),
        )
        stats = self.state.stats
        if decision.latency_s:
            stats.count_fault("latency")
            await asyncio.sleep(decision.latency_s)
        if decision.action == "rate_limit":
            stats.count_fault("rate_limit")
            stats.rate_limited += 1
            message = "Too many requests; retry later"
            headers = [(b"retry-after", str(decision.retry_after_s).encode())]
            await _send_error(send, path, 429, "mdsp.core.generic.tooManyRequests", message, headers)
            return
        if decision.action == "quota":
            stats.count_fault("quota")
            stats.rate_limited += 1
            headers = [(b"retry-after", str(decision.retry_after_s).encode())]
            # The gateway's words (ISS mindsphere/mindconnect-nodejs#344).
            await _send_error(send, path, 429, "mdsp.core.generic.tooManyRequests", "API rate limit exceeded", headers)
            return
        if decision.action == "error":
            stats.count_fault("error")
            message = "Service temporarily unavailable (injected)"
            await _send_error(send, path, 503, "mdsp.core.generic.serviceUnavailable", message, [])
            return
        if decision.action == "drop":
            stats.count_fault("drop")
            await _drop(send)
        await self.app(scope, receive, send)
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        stats.count_call(f"{scope['method']} {template}")


async def _send_error(
    send: Send, path: str, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(error_body(service_style(path), status, code, message, path)).encode()
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    # Promise a body, send part of it, then fail: uvicorn closes the transport, so the client
    # sees an incomplete read (requests raises ChunkedEncodingError / ConnectionError).
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(_DROP_PROMISED_BYTES).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"dropped":', "more_body": True})
    raise DroppedConnection("connection dropped by fault injection")
