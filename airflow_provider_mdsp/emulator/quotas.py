"""Per-tenant API quotas (insights-hub-api.md §0): what the gateway counts and when it says 429.

Rules: quotas are per tenant (environment) and per endpoint, counted per 30 s and per hour, with
values by plan size (support KB000122896); past a quota the gateway answers 429 "API rate limit
exceeded" with ``Retry-After`` in seconds (ISS mindsphere/mindconnect-nodejs#344), which is long
when the hourly quota is spent. The tenant is the token's ``ten`` claim.

Gap choices: the published quota values could not be read, so the defaults
(:data:`DEFAULT_QUOTAS`) are generous, well above what this project's tests and example DAGs send,
and a test that wants the limits sets small ones. An endpoint is the method plus the first three
path segments after ``/api/`` (``GET /api/iottimeseries/v3/timeseries``). Windows are fixed and
aligned to the wall clock (``[k*30 s, (k+1)*30 s)``, whole hours); a refused call is not counted;
``Retry-After`` is the time until every spent window has ended.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Window names and lengths in seconds.
WINDOWS = (("per_30s", 30), ("per_hour", 3600))


class QuotaSettingsError(ValueError):
    """Raised for a malformed quota setting; the message says what is expected."""


@dataclass(frozen=True)
class Quotas:
    """Calls allowed per tenant and endpoint in each window (``None``: that window is not counted).

    :param per_30s: calls per 30-second window
    :param per_hour: calls per hour
    """

    per_30s: int | None = None
    per_hour: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """Return the quotas as JSON."""
        return {"per_30s": self.per_30s, "per_hour": self.per_hour}


#: On unless switched off: far above what the test suite sends to one endpoint of one tenant.
DEFAULT_QUOTAS = Quotas(per_30s=2000, per_hour=50_000)


def parse_quotas(value: Any) -> Quotas | None:
    """Parse ``{"per_30s": N, "per_hour": M}``, ``"N/M"`` or ``None``/``"off"`` (no quotas).

    :param value: the ``quotas`` fault setting
    :raises QuotaSettingsError: when malformed
    """
    if value is None or value is False or value == "off":
        return None
    if isinstance(value, Quotas):
        return value
    try:
        if isinstance(value, str):
            first, _, second = value.partition("/")
            data: dict[str, Any] = {"per_30s": first or None, "per_hour": second or None}
        else:
            data = dict(value)
        unknown = set(data) - {name for name, _ in WINDOWS}
        if unknown:
            raise QuotaSettingsError(f"quotas: unknown window(s) {sorted(unknown)}; use per_30s and per_hour")
        counts = {name: _count(data.get(name)) for name, _ in WINDOWS}
    except (TypeError, ValueError) as exc:
        if isinstance(exc, QuotaSettingsError):
            raise
        raise QuotaSettingsError(
            f"quotas must look like {{'per_30s': N, 'per_hour': M}} or 'N/M', got {value!r}"
        ) from exc
    return Quotas(**counts)


def _count(value: Any) -> int | None:
    if value in (None, "", "-"):
        return None
    count = int(value)
    if count < 1:
        raise QuotaSettingsError("quotas: each count must be >= 1 (or null for no limit)")
    return count


def endpoint_of(method: str, path: str) -> str:
    """Return the endpoint a call counts against, e.g. ``GET /api/iotfile/v3/files``.

    :param method: HTTP method
    :param path: request path under ``/api/``
    """
    segments = path.split("/")[2:5]  # ["", "api", service, version, resource, ...]
    return f"{method} /api/{'/'.join(segments)}"


class QuotaCounter:
    """Count calls per (tenant, endpoint, window) and decide when the quota is spent. No I/O.

    :param clock: epoch-seconds clock (the emulator's :class:`~.clock.EmulatorClock` ``time``)
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str, int], tuple[int, int]] = {}

    def reset(self) -> None:
        """Forget every count."""
        self._counts.clear()

    def check(self, quotas: Quotas, tenant: str, endpoint: str) -> int | None:
        """Count one call; return ``Retry-After`` seconds when a quota is spent (the call not counted).

        :param quotas: the quotas in force
        :param tenant: the caller's tenant
        :param endpoint: see :func:`endpoint_of`
        """
        now = self._clock()
        counted, waits = [], []
        for name, span in WINDOWS:
            limit = getattr(quotas, name)
            if limit is None:
                continue
            key, index = (tenant, endpoint, span), int(now // span)
            start, count = self._counts.get(key, (index, 0))
            count = count if start == index else 0
            if count >= limit:
                waits.append(math.ceil((index + 1) * span - now))
            counted.append((key, index, count + 1))
        if waits:
            return max(1, *waits)
        for key, index, count in counted:
            self._counts[key] = (index, count)
        return None
