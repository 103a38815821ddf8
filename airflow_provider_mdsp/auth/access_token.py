"""An access token as a value: when it was issued, when it expires, whether it is still fresh.

Freshness is judged on the provider's one clock (:func:`airflow_provider_mdsp.timeutil.epoch`), so a
test moves token time with :func:`~airflow_provider_mdsp.timeutil.using_clock` like every other wait.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from airflow_provider_mdsp import timeutil

#: Renew a token this many seconds before it expires. Technical tokens live 1800 s
#: (30 minutes, per Siemens' token documentation). The Siemens SDKs renew about 5 min before expiry;
#: google-auth uses 225 s, Databricks 120 s. 300 s leaves room
#: for a slow token endpoint, a retried token request and clock skew between worker and gateway,
#: while a token is still used for 25 of its 30 minutes.
REFRESH_MARGIN: float = 300.0

#: For short-lived tokens the margin shrinks to this fraction of the lifetime, so a 60 s token (an
#: emulator fault, a misconfigured tenant) is used for 45 s instead of being renewed on every call.
SHORT_LIFETIME_MARGIN_FRACTION: float = 0.25


def refresh_margin_for(lifetime: float) -> float:
    """Return how many seconds before expiry a token of this lifetime should be renewed.

    ``min(REFRESH_MARGIN, lifetime / 4)``: the full margin for normal 1800 s tokens, a quarter of
    the lifetime for short ones, and 0 for a token that claims no lifetime at all.

    :param lifetime: seconds between issue and expiry.
    """
    return max(0.0, min(REFRESH_MARGIN, lifetime * SHORT_LIFETIME_MARGIN_FRACTION))


@dataclass(frozen=True)
class Token:
    """An access token with its expiry; immutable, compared by value.

    :param access_token: the bearer token sent as ``Authorization: Bearer …``.
    :param expires_at: expiry, seconds since the epoch.
    :param issued_at: when it was obtained (or its ``iat``), seconds since the epoch.
    :param scopes: granted scopes, when the token endpoint or the JWT says.
    :param refresh_token: the refresh token that came with it (refresh flow only).
    :param subtenant: the impersonated subtenant, when the token is for one.
    """

    access_token: str
    expires_at: float
    issued_at: float
    scopes: tuple[str, ...] = ()
    refresh_token: str | None = None
    subtenant: str | None = None

    def __repr__(self) -> str:
        # Never the token values: a repr ends up in logs, tracebacks and debugger output.
        refresh = "<hidden>" if self.refresh_token else None
        return (
            f"Token(access_token=<hidden>, expires_at={self.expires_at!r}, issued_at={self.issued_at!r}, "
            f"scopes={self.scopes!r}, refresh_token={refresh}, subtenant={self.subtenant!r})"
        )

    __str__ = __repr__

    @property
    def lifetime(self) -> float:
        """Seconds between issue and expiry."""
        return self.expires_at - self.issued_at

    def expires_in(self, at: float | None = None) -> float:
        """Return the seconds left until expiry (negative once expired).

        :param at: the moment to judge at; defaults to the clock's :func:`~airflow_provider_mdsp.timeutil.epoch`.
        """
        return self.expires_at - (timeutil.epoch() if at is None else at)

    def is_fresh(self, at: float | None = None, margin: float | None = None) -> bool:
        """Return whether the token may still be used, i.e. it expires later than ``margin`` from ``at``.

        :param at: the moment to judge at; defaults to the clock's :func:`~airflow_provider_mdsp.timeutil.epoch`.
        :param margin: seconds of validity required; defaults to :func:`refresh_margin_for` its lifetime.
        """
        if margin is None:
            margin = refresh_margin_for(self.lifetime)
        return self.expires_in(at) > margin


def jwt_claims(token: str) -> dict[str, Any]:
    """Return the claims of a JWT without verifying it, or ``{}`` when it is not a readable JWT.

    Only for reading ``exp``/``iat``/``scope``: the gateway verifies every token it receives, so a
    forged claim here can at most make us renew too early or too late.

    :param token: a compact JWT (``header.payload.signature``).
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def number_or_none(value: Any) -> float | None:
    """Return ``value`` as a float, or ``None`` when it is missing, not a finite number, or a bool."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def scopes_from(value: Any) -> tuple[str, ...]:
    """Return scopes from a space-separated string (OAuth response) or a list (JWT claim)."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if v not in (None, ""))
    return ()
