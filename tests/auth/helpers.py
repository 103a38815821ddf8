"""Helpers for the auth tests: the clock's start, unsigned JWTs, and the secrets to look for."""

from __future__ import annotations

import base64
import json
from typing import Any

T0 = 1_700_000_000.0

# Values that must never show up in a repr, message or log. Distinctive so a search cannot miss them.
CLIENT_SECRET = "cs-SUPER-SECRET-4711"
REFRESH_TOKEN = "rt-REFRESH-SECRET-0815"
ACCESS_TOKEN = "at-ACCESS-SECRET-1234"


def make_jwt(claims: dict[str, Any]) -> str:
    """Return an unsigned compact JWT with these claims (the auth layer never verifies)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'key-id-1', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
