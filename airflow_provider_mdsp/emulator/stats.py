"""Counters served at ``GET /_emulator/stats``."""

from __future__ import annotations

from collections import Counter
from typing import Any


class Stats:
    """Request counters: tokens per client and grant, calls per endpoint, 429s, faults."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.tokens_by_client: Counter[str] = Counter()
        self.tokens_by_grant: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0

    def count_token(self, client_id: str, grant: str) -> None:
        """Count one token request.

        :param client_id: requesting client (``unknown`` when not authenticated)
        :param grant: grant type, e.g. ``client_credentials``
        """
        self.tokens_by_client[client_id] += 1
        self.tokens_by_grant[grant] += 1

    def count_call(self, endpoint: str) -> None:
        """Count one API call.

        :param endpoint: ``METHOD /route/{template}``
        """
        self.calls[endpoint] += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault.

        :param kind: ``latency``, ``rate_limit``, ``error`` or ``drop``
        """
        self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return all counters as JSON."""
        return {
            "token_requests": {
                "total": sum(self.tokens_by_client.values()),
                "by_client": dict(self.tokens_by_client),
                "by_grant": dict(self.tokens_by_grant),
            },
            "calls": dict(self.calls),
            "total_calls": sum(self.calls.values()),
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
        }
