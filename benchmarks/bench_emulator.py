"""How fast the local Insights Hub emulator serves its heaviest and its most common pages.

``python benchmarks/bench_emulator.py [--rounds N]`` starts the emulator in its own process (so
the server and this client do not share a GIL), warms up, and prints the median and p95
latency, measured by the client over loopback (request sent to body fully read, JSON not
parsed), of:

* a 2000-record time-series page (``limit=2000``) of the 1-second ``bench-motor``/``Vibration``
  data, each round a different window so nothing is served from a cache;
* a 10-asset Asset Management page (the default ``size``);
* a token request and a daily aggregate over a week, for scale.

It prints a small table and asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import requests

from airflow_provider_mdsp.emulator import run_emulator
from airflow_provider_mdsp.emulator.timefmt import format_ms, now_ms

WARMUP = 20
HOUR_MS = 3_600_000


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(call: Callable[[int], requests.Response], rounds: int) -> list[float]:
    for i in range(WARMUP):
        call(i).raise_for_status()
    timings = []
    for i in range(rounds):
        started = time.perf_counter()
        response = call(WARMUP + i)
        _ = response.content
        timings.append((time.perf_counter() - started) * 1000.0)
        response.raise_for_status()
    return timings


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="measured requests per row (default 200)")
    rounds = parser.parse_args().rounds
    with run_emulator(mode="process") as emu:
        auth = ("demo-techuser", "demo-secret")
        form = {"grant_type": "client_credentials"}
        session = requests.Session()
        token = session.post(emu.token_url, auth=auth, data=form, timeout=30).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        ids = emu.demo_assets()
        ts_url = f"{emu.url}/api/iottimeseries/v3/timeseries/{ids['bench-motor']}/Vibration"
        newest = now_ms() // 1000 * 1000 - HOUR_MS

        def ts_page(i: int) -> requests.Response:
            end = newest - (i % 200) * 2000 * 1000  # a different 2000-second window each round
            params = {"from": format_ms(end - 2000 * 1000), "to": format_ms(end), "limit": 2000}
            return session.get(ts_url, params=params, timeout=30)

        rows: list[tuple[str, Callable[[int], requests.Response], int]] = [
            ("time series page, 2000 records (1 s data)", ts_page, 2000),
            (
                "asset page, 10 assets",
                lambda i: session.get(f"{emu.url}/api/assetmanagement/v3/assets", params={"size": 10}, timeout=30),
                10,
            ),
            ("token request (client credentials)", lambda i: session.post(emu.token_url, auth=auth, data=form), 1),
            (
                "aggregates, 7 daily intervals (1 min data)",
                lambda i: session.get(
                    f"{emu.url}/api/iottsaggregates/v4/aggregates",
                    params={"assetId": ids["Pump-A1-1"], "aspectName": "PumpData"},
                    timeout=30,
                ),
                7,
            ),
        ]
        check = ts_page(0)
        assert len(check.json()) == 2000, "the time-series page must hold 2000 records"
        print(f"Insights Hub emulator at {emu.url} (own process), {rounds} rounds after {WARMUP} warm-up calls\n")
        print(f"| {'request':<44} | {'items':>5} | {'median ms':>9} | {'p95 ms':>7} |")
        print(f"|{'-' * 46}|{'-' * 7}|{'-' * 11}|{'-' * 9}|")
        for label, call, items in rows:
            timings = _measure(call, rounds)
            median, p95 = statistics.median(timings), _percentile(timings, 0.95)
            print(f"| {label:<44} | {items:>5} | {median:>9.1f} | {p95:>7.1f} |")


if __name__ == "__main__":
    main()
