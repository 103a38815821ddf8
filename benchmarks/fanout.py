"""Fan-out: read a window of 200 assets with 50 ms latency and a per-client rate limit, sequential vs a thread pool.

One client (one session, one token) is shared by N worker threads, as mapped tasks sharing a hook
in one process would; the transport's pool keeps 32 connections. The emulator adds 50 ms to every
call and allows each client :data:`RATE_LIMIT` requests per second; beyond that it answers 429
with ``Retry-After``, which the client honours (capped at ``max_retry_wait``) before retrying.
The limit is chosen so the sequential reader never meets it and 16 workers do: the figure shows
both the speedup and that every 429 was absorbed (all reads complete, with every record).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from benchmarks.common import MDSP_CONN, Row, connection_env, environment, fresh_token_registry

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

ASSETS = 200
RECORDS_PER_ASSET = 60
LATENCY_MS = 50
#: Requests per client per second. A sequential reader makes ~19/s at 50 ms; 16 workers would make ~300/s.
RATE_LIMIT = "120/1"
ASPECT = "Vibration"
ASSET_TYPE = "demo.BenchMotor"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def create_assets(hook: Any, count: int) -> list[str]:
    """Create ``count`` assets with ``RECORDS_PER_ASSET`` written records each (set-up, not timed)."""
    client = hook.client
    root = client.assets.get_root_asset()["assetId"]
    records = [
        {"_time": (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"), "Velocity": 2.5 + i / 100}
        for i in range(RECORDS_PER_ASSET)
    ]
    ids = []
    stamp = int(time.time())
    for i in range(count):
        asset = client.assets.create_asset({"name": f"fan-{stamp}-{i:03d}", "typeId": ASSET_TYPE, "parentId": root})
        client.timeseries.put_timeseries(asset["assetId"], ASPECT, records)
        ids.append(asset["assetId"])
    return ids


def reader(hook: Any) -> Callable[[str], int]:
    """Return a function reading one asset's window and returning its record count."""
    end = START + timedelta(seconds=RECORDS_PER_ASSET)
    series = hook.client.timeseries

    def read(asset_id: str) -> int:
        return sum(1 for _ in series.iter_timeseries(asset_id, ASPECT, from_=START - timedelta(seconds=1), to=end))

    return read


def count_429s(hook: Any) -> list[int]:
    """Count the 429 answers the hook's session receives (a one-element list, mutated)."""
    seen = [0]

    def on_response(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429:
            seen[0] += 1

    hook.client.transport.session.hooks["response"].append(on_response)
    return seen


def run(hook: Any, assets: list[str], workers: int) -> dict[str, Any]:
    """Read every asset with ``workers`` threads (1 = a plain loop); return time, 429s and completed reads."""
    read, limited = reader(hook), count_429s(hook)
    start = time.perf_counter()
    if workers == 1:
        counts = [read(a) for a in assets]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(read, assets))
    seconds = time.perf_counter() - start
    complete = sum(1 for c in counts if c == RECORDS_PER_ASSET)
    return {"seconds": seconds, "429s": limited[0], "complete": complete}


def rows(emu: EmulatorHandle, *, assets: int = ASSETS, worker_counts: tuple[int, ...] = (4, 16)) -> list[Row]:
    """Measure sequential and pooled fan-out; return one row per pool size."""
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    with environment(connection_env(emu.url)):
        fresh_token_registry()
        ids = create_assets(MdspHook(MDSP_CONN), assets)
        emu.set_faults(latency_ms=LATENCY_MS, rate_limit=RATE_LIMIT, seed=1)
        try:
            results = {}
            for workers in (1, *worker_counts):
                fresh_token_registry()
                results[workers] = run(MdspHook(MDSP_CONN), ids, workers)
                time.sleep(1.1)  # let the rate-limit window pass between contenders
        finally:
            emu.set_faults()
    base = results[1]
    out = []
    for workers in worker_counts:
        r = results[workers]
        speedup = base["seconds"] / r["seconds"]
        out.append(
            Row(
                f"Fan-out over {assets} assets, {LATENCY_MS} ms latency, limit {RATE_LIMIT} s per client: "
                f"{workers} threads, one client",
                f"{r['seconds']:.2f} s; {r['429s']} x 429 absorbed; {r['complete']}/{assets} reads complete",
                f"{base['seconds']:.2f} s sequential; {base['429s']} x 429; {base['complete']}/{assets} complete",
                f"{speedup:.1f}x faster",
                ">= 5x, all complete" if workers == max(worker_counts) else "",
                (speedup >= 5 and r["complete"] == assets) if workers == max(worker_counts) else None,
            )
        )
    return out
