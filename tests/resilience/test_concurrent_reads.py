"""Concurrent window reads against the emulator write exactly the sequential read's file, whatever the network does."""

from __future__ import annotations

import logging
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


def same_file(
    emulator: Any,
    asset: str,
    aspect: str,
    window: tuple[str, str],
    tmp_path: Path,
    concurrency: int | str = THREADS,
    **faulty: Any,
) -> dict:
    """Read sequentially without faults, then concurrently (with ``faulty`` settings); the files must match."""
    emulator.set_faults()
    clean = read_to_file(emulator.url, asset, aspect, window, tmp_path / "sequential.jsonl")
    emulator.reset_stats()
    emulator.set_faults(**faulty)
    target = tmp_path / "concurrent.jsonl"
    result = read_to_file(emulator.url, asset, aspect, window, target, concurrency=concurrency)
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


class ChosenThreads(logging.Handler):
    """Catch the thread counts concurrent reads log when they start their sub-windows (on their own
    logger: Airflow's logging setup may replace the root's handlers mid-test)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: list[int] = []
        self.logger = logging.getLogger("airflow_provider_mdsp.client.windows")

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "mdsp_threads"):
            self.counts.append(int(record.mdsp_threads))

    def __enter__(self) -> ChosenThreads:
        self.level, self.logger.level = self.logger.level, logging.INFO
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.level = self.level

    @property
    def threads(self) -> int:
        assert len(self.counts) == 1, "one concurrent read, one choice"
        return self.counts[0]


def test_auto_concurrency_covers_the_latency_and_writes_the_sequential_file(emulator, tmp_path):
    """At 60 ms per call the first page's round trip asks for 24 threads or more; the file is the same."""
    asset = emulator.demo_assets()["bench-motor"]
    with ChosenThreads() as chosen:
        same_file(emulator, asset, "Vibration", bench_window(12000), tmp_path, concurrency="auto", latency_ms=60)
    assert chosen.threads >= 24


def test_auto_concurrency_on_a_fast_network_uses_few_threads(emulator, tmp_path):
    asset = emulator.demo_assets()["bench-motor"]
    with ChosenThreads() as chosen:
        same_file(emulator, asset, "Vibration", bench_window(6000), tmp_path, concurrency="auto")
    assert chosen.threads < 24, "loopback without added latency answers in a few milliseconds"


def test_auto_concurrency_under_a_rate_limit_gets_at_most_one_429_per_thread(emulator, tmp_path):
    """20 calls/s at 100 ms per call: auto picks the most threads, pacing still holds the 429s to one per thread."""
    asset = emulator.demo_assets()["bench-motor"]
    with ChosenThreads() as chosen:
        result = same_file(
            emulator,
            asset,
            "Vibration",
            bench_window(16000),
            tmp_path,
            concurrency="auto",
            latency_ms=100,
            rate_limit="20/1",
        )
    threads = chosen.threads
    throttled = injected(emulator.stats())["rate_limit"]
    assert throttled == result["throttled"]
    assert threads >= 48, "100 ms per call asks for 34 calls in flight or more"
    assert 1 <= throttled <= threads
