"""``python -m benchmarks.hostile``: the hostile-network bounds, each beside what an unbounded client does.

Plays the cases of ``tests/hostile`` (its small HTTP server on loopback) and measures what a user
sees, next to a baseline: plain ``requests`` (what an HttpHook-style client does), or, for the token
requests, the nested retry policies before issue 9 ((max_retries + 1)² token requests per call).

* a gzip bomb (a few hundred KiB that inflate to 64 MiB): peak memory with ``max_response_mb=8``
  beside the peak of ``requests`` reading the same answer;
* a body trickled 20 bytes a second (never idle long enough for a read timeout): time to failure with
  ``response_timeout=1`` beside the time ``requests`` with a 5 s read timeout takes to get it;
* a token endpoint answering 503: token requests of one call with ``max_retries=2``.

Prints a Markdown table of :class:`~benchmarks.common.Row`; takes about 15 s.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import requests

from benchmarks.common import Row, fmt_ratio, quiet_logs, render_table
from tests.hostile.server import Hostile, answer, hostile_server, token, trickle

TS = "/api/iottimeseries/v3/timeseries/a1/Vibration"
#: Decoded size of the bomb and the cap it meets.
BOMB_MIB, CAP_MIB = 64, 8
#: The trickled body: its length and the pause between bytes (a whole body takes LENGTH * EVERY s).
TRICKLE_LENGTH, TRICKLE_EVERY = 200, 0.05
RESPONSE_TIMEOUT = 1.0
TOKEN_RETRIES = 2


def client(url: str, **settings: Any) -> Any:
    """Build an ``MdspClient`` for the hostile gateway with quick retries."""
    from airflow_provider_mdsp.auth import TenantCredentials, clear_token_providers
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from airflow_provider_mdsp.client.token_fetch import token_provider_for

    clear_token_providers()
    config = ClientSettings(url, backoff_base=0.01, max_retry_wait=0.05, **settings)
    credentials = TenantCredentials("bench-client", "bench-secret", "acme", f"{url}/oauth/token")
    return MdspClient.create(config, token_provider_for(config, credentials))


def peak_mib(call: Callable[[], Any]) -> float:
    """Return the peak of Python allocations in MiB while ``call`` runs (its error ignored)."""
    tracemalloc.start()
    with contextlib.suppress(Exception):  # the figure is the memory; the error is expected
        call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def seconds(call: Callable[[], Any]) -> float:
    """Return the wall time ``call`` took (its error ignored)."""
    began = time.monotonic()
    with contextlib.suppress(Exception):  # the figure is the time; the error is expected
        call()
    return time.monotonic() - began


def bomb_row(server: Hostile) -> Row:
    bomb = gzip.compress(b"[" + b" " * (BOMB_MIB * 2**20) + b"]", compresslevel=9)
    server.play("/api")(lambda h, s: answer(h, 200, bomb, {"Content-Encoding": "gzip"}))
    ours = peak_mib(
        lambda: client(server.url, max_retries=0, max_response_bytes=CAP_MIB * 2**20).request_json("GET", TS)
    )
    plain = peak_mib(lambda: requests.get(server.url + TS, timeout=30).json())
    return Row(
        f"gzip bomb, {len(bomb) // 1024} KiB inflating to {BOMB_MIB} MiB: peak memory",
        f"{ours:.1f} MiB (cap {CAP_MIB} MiB)",
        f"requests: {plain:.1f} MiB",
        fmt_ratio(plain / ours, "less"),
        f"peak <= 2 x cap ({2 * CAP_MIB} MiB)",
        ours <= 2 * CAP_MIB,
    )


def trickle_row(server: Hostile) -> Row:
    stop = threading.Event()
    body = b"[" + b"1," * (TRICKLE_LENGTH // 2 - 1) + b"1]"
    server.play("/api")(lambda h, s: trickle(h, body, TRICKLE_EVERY, stop))
    try:
        ours = seconds(
            lambda: client(server.url, response_timeout=RESPONSE_TIMEOUT, max_retries=0).request_json("GET", TS)
        )
        plain = seconds(lambda: requests.get(server.url + TS, timeout=(5, 5)).json())
    finally:
        stop.set()
    return Row(
        f"body trickled {1 / TRICKLE_EVERY:.0f} bytes/s ({len(body)} bytes): time to failure",
        f"{ours:.1f} s (response_timeout {RESPONSE_TIMEOUT:g} s)",
        f"requests, 5 s read timeout: {plain:.1f} s",
        fmt_ratio(plain / ours, "sooner"),
        f"<= response_timeout + 1 s ({RESPONSE_TIMEOUT + 1:g} s)",
        ours <= RESPONSE_TIMEOUT + 1,
    )


def token_row(server: Hostile) -> Row:
    server.play("/oauth/token")(lambda h, s: answer(h, 503, b'{"error": "unavailable"}'))
    seconds(lambda: client(server.url, max_retries=TOKEN_RETRIES).request_json("GET", TS))
    ours = server.count("/oauth/token")
    nested = (TOKEN_RETRIES + 1) ** 2
    return Row(
        f"token endpoint answering 503, max_retries={TOKEN_RETRIES}: token requests of one call",
        str(ours),
        f"nested policies (before issue 9): {nested}",
        fmt_ratio(nested / ours, "fewer"),
        f"max_retries + 1 ({TOKEN_RETRIES + 1})",
        ours == TOKEN_RETRIES + 1,
    )


def main() -> None:
    quiet_logs()
    rows = []
    for measure in (bomb_row, trickle_row, token_row):
        with hostile_server() as server:
            server.play("/oauth/token")(token)
            rows.append(measure(server))
    print(render_table(rows))


if __name__ == "__main__":
    main()
