"""The emulator with faults: 503s, dropped connections, 429s with Retry-After, short token lifetimes.

Retries are kept quick (tiny backoff, short caps) so every test takes seconds. The fault dice are
seeded; timing still moves rate-limit windows, so each test also checks that the faults it relies
on actually happened, and the outcome (exact records, one event per correlation id) does not depend
on which request drew which fault.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.emulator.faults import DroppedConnection

CLIENT_ID, CLIENT_SECRET, TENANT = "demo-techuser", "demo-secret", "demo"
SEED = 20260101

#: 10 % 503s, 5 % connections cut mid-response, a per-client limit of 5 calls per 0.4 s answered
#: with 429 and ``Retry-After: 1`` (within the client's ``max_retry_wait``, so waited for), 60 s tokens.
FAULTS: dict[str, Any] = {
    "error_rate": 0.10,
    "drop_rate": 0.05,
    "rate_limit": "5/0.4",
    "retry_after_s": 1,
    "token_lifetime_s": 60,
    "seed": SEED,
}
#: Quick retries and enough attempts that 15 % faults never exhaust them. ``max_retry_wait`` admits the
#: emulator's ``Retry-After: 1`` (a longer ask is refused at once); backoff after 503s and drops stays short.
RETRIES: dict[str, Any] = {"max_retries": 8, "max_retry_wait": 1.0}


def bench_window(seconds: int) -> tuple[str, str]:
    """Return a ``(from, to]`` window of the 1-second ``bench-motor`` data holding ``seconds`` records."""
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    start = end - timedelta(seconds=seconds)
    return (
        start.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        end.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )


def client_for(url: str, **settings: Any) -> Any:
    """Build an ``MdspClient`` on the demo tenant's credentials with quick retries, as a new task process would.

    The process-wide token cache is emptied first, so the client starts with a token of the
    emulator's current lifetime.
    """
    from airflow_provider_mdsp.auth import TenantCredentials, clear_token_providers
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from airflow_provider_mdsp.client.token_fetch import token_provider_for

    options = {"backoff_base": 0.01, "connect_timeout": 5.0, "read_timeout": 10.0, **RETRIES, **settings}
    config = ClientSettings(url, **options)
    clear_token_providers()
    credentials = TenantCredentials(CLIENT_ID, CLIENT_SECRET, TENANT, f"{url}/oauth/token")
    return MdspClient.create(config, token_provider_for(config, credentials))


def injected(stats: dict[str, Any]) -> dict[str, int]:
    """Return the injected faults by kind (``error``, ``drop``, ``rate_limit``) from emulator stats."""
    return {kind: int(stats["faults"].get(kind, 0)) for kind in ("error", "drop", "rate_limit")}


@pytest.fixture
def emulator() -> Iterator[Any]:
    """The emulator in thread mode, faults off, counters at zero."""
    from airflow_provider_mdsp.emulator import run_emulator

    with run_emulator(mode="thread") as emu:
        yield emu


@pytest.fixture
def mdsp_emulator_connection(emulator, mdsp_connection) -> str:
    """An ``mdsp`` Airflow connection to the emulator, with quick retries."""
    return mdsp_connection(
        "mdsp_emulator",
        host=emulator.url,
        login=CLIENT_ID,
        password=CLIENT_SECRET,
        extra={"tenant": TENANT, "auth_url": emulator.token_url, **RETRIES},
    )


class DropAfterProcessing:
    """ASGI wrapper cutting the connection of some successful calls *after* the app acted on them.

    The emulator's own drops happen before a request reaches a service; this one lets the service
    act (create the event, store the file, start the job) and then loses the answer, the case where
    a blind resend would duplicate the write or fail on "already exists".

    :param app: the emulator app.
    :param rate: fraction of matching successful calls to cut.
    :param method: HTTP method to match.
    :param path: exact path to match, or its start when it ends with ``*``.
    :param query: text the query string must contain (e.g. ``upload=complete``), if any.
    :param limit: cut at most this many calls.
    """

    def __init__(
        self,
        app: Any,
        rate: float,
        *,
        method: str,
        path: str,
        query: str = "",
        limit: int | None = None,
        seed: int = SEED,
    ) -> None:
        self.app, self.rate, self.method, self.path = app, rate, method, path
        self.query, self.limit = query.encode(), limit
        self.rng = random.Random(seed)
        self.dropped = 0

    def matches(self, scope: Any) -> bool:
        """Tell whether a request is one whose answer may be cut."""
        if scope["type"] != "http" or scope["method"] != self.method or self.query not in scope["query_string"]:
            return False
        if self.limit is not None and self.dropped >= self.limit:
            return False
        path = scope["path"]
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.matches(scope):
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, capture)
        except DroppedConnection:  # the emulator's own drop, before the service: pass it on
            for message in messages:
                await send(message)
            raise
        status = next(m["status"] for m in messages if m["type"] == "http.response.start")
        if 200 <= status < 300 and self.rng.random() < self.rate:
            self.dropped += 1
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"id":', "more_body": True})
            raise DroppedConnection("connection cut after the service acted")
        for message in messages:
            await send(message)


class Served:
    """An ASGI app served by uvicorn in a thread on a free loopback port.

    :param app: the ASGI app.
    """

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
