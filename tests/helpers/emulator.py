"""A token source for client tests against the emulator: real client-credentials tokens, counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

DEMO_CLIENT_ID = "demo-techuser"
DEMO_CLIENT_SECRET = "demo-secret"  # the emulator's published demo credential


@dataclass(frozen=True)
class _Token:
    access_token: str


class EmulatorTokens:
    """A token source that fetches a real client-credentials token from the emulator and caches it."""

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url
        self.fetched = 0
        self.invalidated = 0
        self._token: _Token | None = None

    def get_token(self, *, timeout: float | None = None) -> _Token:
        if self._token is None:
            response = requests.post(
                self.token_url,
                auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                data={"grant_type": "client_credentials"},
                timeout=10,
            )
            response.raise_for_status()
            self._token = _Token(response.json()["access_token"])
            self.fetched += 1
        return self._token

    def invalidate(self, token: Any = None) -> None:
        self.invalidated += 1
        if token is None or token == self._token:
            self._token = None
