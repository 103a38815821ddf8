"""A mocked gateway behind an ``mdsp`` connection (2026 dates), and small helpers for the operator unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from tests.helpers.gateway import piam_answer
from tests.helpers.gateway import query as query  # one helper for both gateways

GATEWAY = "https://gateway.eu1.mindsphere.io"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
TS = f"{GATEWAY}/api/iottimeseries/v3/timeseries"
AM = f"{GATEWAY}/api/assetmanagement/v3"
AGG = f"{GATEWAY}/api/iottsaggregates/v4/aggregates"
PUMP = "0123456789abcdef0123456789abcdef"
PUMP2 = "fedcba9876543210fedcba9876543210"
START = datetime(2026, 5, 1, tzinfo=timezone.utc)
END = datetime(2026, 5, 2, tzinfo=timezone.utc)


def connect(mdsp_connection: Callable[..., str], requests_mock: Any) -> Any:
    """Create the ``mdsp_default`` connection and mock its token endpoint; return the token mock."""
    mdsp_connection(host=GATEWAY, login="acme-tech", password="s3cret", extra={"tenant": "acme"})
    return requests_mock.post(TOKEN_URL, json=piam_answer("tok"))


def api_calls(requests_mock: Any) -> list[Any]:
    """Return the recorded requests that were not token requests."""
    return [r for r in requests_mock.request_history if "/oauth/token" not in r.url]


def context(start: datetime | None = START, end: datetime | None = END, **extra: Any) -> dict[str, Any]:
    """Return a task context as the runner builds it (``data_interval_*`` only when the run has them)."""
    ctx: dict[str, Any] = {"dag_run": SimpleNamespace(run_after=end or START), **extra}
    if start is not None and end is not None:
        ctx.update(data_interval_start=start, data_interval_end=end)
    return ctx


def records(n: int, start: datetime = START, step: timedelta = timedelta(minutes=1), **values: Any) -> list[dict]:
    """Return ``n`` time-series records one ``step`` apart, after ``start``."""
    return [
        {"_time": (start + step * (i + 1)).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "v": i, **values}
        for i in range(n)
    ]


class TrackedPages:
    """Pages handed out lazily, remembering how many were taken, and failing at page ``fail_at`` if set."""

    def __init__(self, pages: list[list[dict]], fail_at: int | None = None) -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.taken = 0
        self.on_take: Callable[[int], None] | None = None

    def __iter__(self) -> Iterator[list[dict]]:
        for number, page in enumerate(self.pages, start=1):
            if self.on_take is not None:
                self.on_take(number)
            if number == self.fail_at:
                raise ConnectionError(f"gateway dropped the connection at page {number}")
            self.taken = number
            yield page


def sent_json(request: Any) -> Any:
    """Return the JSON body of a recorded request."""
    return json.loads(request.body)
