"""Helpers for the auth tests: the clock's start, unsigned JWTs, and the secrets to look for."""

from __future__ import annotations

import base64
import json
from typing import Any

from airflow_provider_mdsp.auth import Token

T0 = 1_700_000_000.0
#: A cache identity of the file-cache tests.
IDENTITY = "tenant_credentials:test"

# Values that must never show up in a repr, message or log. Distinctive so a search cannot miss them.
CLIENT_SECRET = "cs-SUPER-SECRET-4711"
REFRESH_TOKEN = "rt-REFRESH-SECRET-0815"
ACCESS_TOKEN = "at-ACCESS-SECRET-1234"


def make_jwt(claims: dict[str, Any]) -> str:
    """Return an unsigned compact JWT with these claims (the auth layer never verifies)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'key-id-1', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class Fetcher:
    """A token fetch that records the cached token it was given and returns a new numbered token."""

    def __init__(self) -> None:
        self.previous: list[Token | None] = []

    def __call__(self, previous: Token | None) -> Token:
        self.previous.append(previous)
        n = len(self.previous)
        return Token(f"token-{n}", T0 + 1800, T0, refresh_token=f"rt-{n}")
