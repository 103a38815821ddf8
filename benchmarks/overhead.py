"""Per-call overhead on one cheap endpoint: MdspHook vs a bare ``requests.Session`` vs ``HttpHook.run()``.

All three call the same endpoint of the same emulator process and parse the JSON answer. The
contenders are warmed up, then interleaved in rounds (a different order each round) so drift in
the machine's load hits them alike; each figure is the median over rounds of the mean time per
call within a round, wall clock and this process's CPU time (the client's own cost).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks.common import (
    CHEAP_PATH,
    HTTP_API_CONN,
    MDSP_CONN,
    Row,
    connection_env,
    environment,
    fresh_token_registry,
    handrolled_token,
    median,
)

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

Call = Callable[[], object]


def contenders(url: str) -> dict[str, Call]:
    """Build one ready-to-call function per contender (token already obtained, sessions open)."""
    import requests
    from airflow.providers.http.hooks.http import HttpHook

    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    fresh_token_registry()
    hook = MdspHook(MDSP_CONN)
    token = handrolled_token()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.headers["Accept"] = "application/json"
    target = url + CHEAP_PATH

    def bare() -> object:
        response = session.get(target, timeout=(10, 60))
        response.raise_for_status()
        return response.json()

    api = HttpHook(method="GET", http_conn_id=HTTP_API_CONN)
    bearer = {"Authorization": f"Bearer {token}"}

    return {
        "mdsp": lambda: hook.request("GET", CHEAP_PATH),
        "bare": bare,
        "http": lambda: api.run(CHEAP_PATH, headers=bearer).json(),
    }


def per_call_seconds(call: Call, calls: int) -> tuple[float, float]:
    """Return the mean wall time and the mean CPU time of this process for one call, over ``calls`` calls."""
    cpu, start = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls, (time.process_time() - cpu) / calls


def measure(url: str, *, rounds: int, calls: int, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Return each contender's median per-call ``(wall, client CPU)`` seconds over the rounds."""
    funcs = contenders(url)
    for call in funcs.values():  # warm up: connections, caches, lazy imports
        per_call_seconds(call, max(calls // 2, 20))
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in funcs}
    order = list(funcs)
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            samples[name].append(per_call_seconds(funcs[name], calls))
    return {name: (median([w for w, _ in s]), median([c for _, c in s])) for name, s in samples.items()}


def rows(emu: EmulatorHandle, *, rounds: int, calls: int) -> list[Row]:
    """Measure and return the per-call rows."""
    with environment(connection_env(emu.url)):
        result = measure(emu.url, rounds=rounds, calls=calls)
    (mdsp, mdsp_cpu), (bare, bare_cpu), (http, http_cpu) = (
        (wall * 1000, cpu * 1000) for wall, cpu in (result[k] for k in ("mdsp", "bare", "http"))
    )
    where = f"median of {rounds} interleaved rounds x {calls} calls"
    return [
        Row(
            f"Time per call, same cheap GET, wall (client CPU) ({where})",
            f"{mdsp:.2f} ms ({mdsp_cpu:.2f} ms), MdspHook.request",
            f"{bare:.2f} ms ({bare_cpu:.2f} ms), bare requests.Session with the bearer set by hand",
            f"{mdsp / bare:.2f}x the bare session ({mdsp_cpu / bare_cpu:.2f}x CPU)",
            "<= 1.10x",
            mdsp / bare <= 1.10,
        ),
        Row(
            "Time per call vs HttpHook, wall (client CPU)",
            f"{mdsp:.2f} ms ({mdsp_cpu:.2f} ms), MdspHook.request",
            f"{http:.2f} ms ({http_cpu:.2f} ms), HttpHook.run per call",
            f"{http / mdsp:.2f}x faster",
        ),
    ]
