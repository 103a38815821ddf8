"""Concurrent window reads against the emulator write exactly the sequential read's file, whatever the network does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_mdsp.operators.output import deliver_records
from tests.resilience.conftest import FAULTS, bench_window, client_for, injected

pytestmark = pytest.mark.integration

PAGE = 200
THREADS = 8


def read_to_file(url: str, asset: str, aspect: str, window: tuple[str, str], target: Path, **options: Any) -> dict:
    """Read ``(from, to]`` into JSON Lines; return the summary and the pacer's 429 count."""
    concurrency = options.pop("concurrency", 1)
    client = client_for(url, **options)
    try:
        pages = client.timeseries.iter_timeseries_pages(
            asset, aspect, from_=window[0], to=window[1], limit=PAGE, concurrency=concurrency
        )
        summary = deliver_records(pages, output_path=str(target), max_xcom_records=0)
        pacer = client.transport.pacer
        return {**summary, "throttled": pacer.throttled if pacer else 0}
    finally:
        client.close()


def shifted(window: tuple[str, str], ms: int) -> tuple[str, str]:
    def move(text: str) -> str:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) + timedelta(milliseconds=ms)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return move(window[0]), move(window[1])


def same_file(emulator: Any, asset: str, aspect: str, window: tuple[str, str], tmp_path: Path, **faulty: Any) -> dict:
    """Read sequentially without faults, then concurrently (with ``faulty`` settings); the files must match."""
    emulator.set_faults()
    clean = read_to_file(emulator.url, asset, aspect, window, tmp_path / "sequential.jsonl")
    emulator.reset_stats()
    emulator.set_faults(**faulty)
    result = read_to_file(emulator.url, asset, aspect, window, tmp_path / "concurrent.jsonl", concurrency=THREADS)
    emulator.set_faults()
    sequential = (tmp_path / "sequential.jsonl").read_bytes()
    assert clean["records"] > 0
    assert result["records"] == clean["records"]
    assert (tmp_path / "concurrent.jsonl").read_bytes() == sequential, "the same records, in the same order"
    return result


@pytest.mark.parametrize(
    ("offset_ms", "edges"),
    [(0, "a record at from (left out) and at to (kept)"), (500, "no record at either edge")],
)
def test_a_concurrent_read_writes_the_sequential_file(emulator, tmp_path, offset_ms, edges):
    asset = emulator.demo_assets()["bench-motor"]
    window = shifted(bench_window(6000), offset_ms)
    same_file(emulator, asset, "Vibration", window, tmp_path)
    first = (tmp_path / "concurrent.jsonl").read_text().splitlines()[0]
    assert window[0] not in first, edges


def test_a_window_where_the_data_begins_late_and_ends_early(emulator, tmp_path):
    """Most of the window is empty: sub-windows without records must not lose or repeat any."""
    asset = emulator.demo_assets()["bench-motor"]
    client = client_for(emulator.url)
    old = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=60)
    clumps = [old + timedelta(hours=hours) for hours in (1, 5, 6)]
    records = [
        {"_time": (start + timedelta(seconds=s)).isoformat().replace("+00:00", "Z"), "Velocity": float(s)}
        for start in clumps
        for s in range(700)
    ]
    client.timeseries.put_timeseries(asset, "Vibration", records)
    client.close()
    window = (old.isoformat().replace("+00:00", "Z"), (old + timedelta(hours=12)).isoformat().replace("+00:00", "Z"))
    result = same_file(emulator, asset, "Vibration", window, tmp_path)
    assert result["records"] == len(records)


def test_latency_503s_dropped_connections_and_429s_change_nothing(emulator, tmp_path):
    asset = emulator.demo_assets()["bench-motor"]
    same_file(emulator, asset, "Vibration", bench_window(3000), tmp_path, **{**FAULTS, "latency_ms": 20})
    faults = injected(emulator.stats())
    assert all(faults.values()), f"every kind of fault happened: {faults}"


def test_a_rate_limited_read_is_paced_not_throttled_over_and_over(emulator, tmp_path):
    """20 calls/s at 100 ms per call: the sequential read (10 calls/s) gets no 429, so the concurrent
    read may get at most one per thread (those in flight when the first came back)."""
    asset = emulator.demo_assets()["bench-motor"]
    result = same_file(
        emulator,
        asset,
        "Vibration",
        bench_window(12000),
        tmp_path,
        latency_ms=100,
        rate_limit="20/1",
    )
    throttled = injected(emulator.stats())["rate_limit"]
    assert throttled == result["throttled"], "the client saw every 429 the emulator sent"
    assert 1 <= throttled <= THREADS
