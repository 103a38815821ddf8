"""Sub-window planning and the ordered concurrent reader, without a network."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator

import pytest

from airflow_provider_mdsp.client.transport import POOL_SIZE
from airflow_provider_mdsp.client.windows import (
    AUTO_THREADS,
    PAGES_PER_WINDOW,
    WindowReader,
    auto_threads,
    check_concurrency,
    format_ms,
    plan_windows,
    to_ms,
    window_count,
)
from airflow_provider_mdsp.exceptions import MdspConfigError

START = "2026-05-01T00:00:00.000Z"


def page_of_seconds(count: int, start_ms: int) -> list[dict]:
    return [{"_time": format_ms(start_ms + 1000 * n)} for n in range(1, count + 1)]


def test_sub_windows_continue_where_the_first_page_stopped_and_share_their_bounds():
    first = page_of_seconds(2000, to_ms(START, "from"))
    end = format_ms(to_ms(START, "from") + 1000 * 100_000)
    windows = plan_windows(first, START, end, limit=2000)
    assert windows[0][0] == first[-1]["_time"], "the rest begins after the first page's last record"
    assert windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows)), "(a, b] then (b, c]: no gap, no overlap"
    assert all(to_ms(lo, "from") < to_ms(hi, "to") for lo, hi in windows)
    # 98,000 records left, each sub-window sized for at most 4 pages of 2000 (95 % full).
    assert len(windows) == 13
    assert 98_000 / len(windows) <= PAGES_PER_WINDOW * 2000


def test_sub_windows_are_planned_for_the_fewest_round_trips():
    first = page_of_seconds(2000, to_ms(START, "from"))
    end = format_ms(to_ms(START, "from") + 1000 * 100_000)
    # 49 pages left: 8 threads read 56 one-page windows in 7 round trips (16 of 4 pages would take 8).
    assert len(plan_windows(first, START, end, limit=2000, threads=8)) == 56
    assert window_count(49, 8) == 56
    # 16 threads: 13 windows of 4 pages, one round of 4 trips, the fewest calls among the quickest.
    assert len(plan_windows(first, START, end, limit=2000, threads=16)) == 13
    assert window_count(99, 16) == 112, "7 round trips of one page, not 8 of four"


def test_a_rest_of_a_few_pages_stays_one_window():
    first = page_of_seconds(2000, to_ms(START, "from"))
    end = format_ms(to_ms(START, "from") + 1000 * 5000)
    assert plan_windows(first, START, end, limit=2000) == [(first[-1]["_time"], end)]


def test_the_first_bound_keeps_the_records_own_precision():
    first = [{"_time": "2026-05-01T00:00:00.000100Z"}, {"_time": "2026-05-01T00:00:00.500250Z"}]
    windows = plan_windows(first, START, "2026-05-02T00:00:00.000Z", limit=2)
    assert windows[0][0] == "2026-05-01T00:00:00.500250Z"
    assert windows[1][0] == windows[0][1]


@pytest.mark.parametrize("value", [0, POOL_SIZE + 1, -1, 2.5, True, "8", "AUTO"])
def test_concurrency_outside_1_to_the_pool_size_is_a_clear_error(value):
    with pytest.raises(MdspConfigError, match="concurrency") as err:
        check_concurrency(value)
    assert err.value.field == "concurrency"


def test_auto_concurrency_is_chosen_later_and_fixed_counts_stay():
    assert check_concurrency("auto") is None
    assert check_concurrency(1) == 1
    assert check_concurrency(POOL_SIZE) == POOL_SIZE


@pytest.mark.parametrize(
    ("round_trip_s", "threads"),
    [
        (0.0, 4),
        (0.004, 4),
        (0.012, 4),
        (0.013, 6),
        (0.03, 12),
        (0.05, 24),
        (0.055, 24),
        (0.1, 48),
        (0.14, 48),
        (0.15, 64),
        (2.0, 64),
    ],
)
def test_auto_threads_keep_a_round_trip_of_calls_in_flight(round_trip_s, threads):
    assert auto_threads(round_trip_s) == threads
    assert threads in AUTO_THREADS
    assert max(AUTO_THREADS) <= POOL_SIZE, "every thread gets a pooled connection"


def windows_of(count: int) -> list[tuple[str, str]]:
    return [(str(n), str(n + 1)) for n in range(count)]


def test_items_come_out_in_window_order_whatever_order_the_threads_finish_in():
    rng = random.Random(7)
    delays = {str(n): rng.random() / 500 for n in range(40)}

    def fetch(window: tuple[str, str]) -> Iterator[str]:
        for part in range(3):
            time.sleep(delays[window[0]])
            yield f"{window[0]}.{part}"

    got = list(WindowReader(fetch, windows_of(40), threads=8))
    assert got == [f"{n}.{part}" for n in range(40) for part in range(3)]


def test_the_items_held_stay_within_the_documented_bound():
    held, most, lock = [0], [0], threading.Lock()

    def fetch(window: tuple[str, str]) -> Iterator[int]:
        for _ in range(10):  # denser than planned: more items than a window may hold
            with lock:
                held[0] += 1
                most[0] = max(most[0], held[0])
            yield 1

    threads, per_window = 4, 2
    for _ in WindowReader(fetch, windows_of(30), threads=threads, per_window=per_window):
        time.sleep(0.0005)
        with lock:
            held[0] -= 1
    assert most[0] <= (threads + threads // 2) * (per_window + 1)


def test_an_error_is_raised_in_order_after_the_earlier_windows_items():
    def fetch(window: tuple[str, str]) -> Iterator[str]:
        if window[0] == "5":
            raise RuntimeError("window 5 failed")
        yield window[0]

    got: list[str] = []
    with pytest.raises(RuntimeError, match="window 5"):
        got.extend(WindowReader(fetch, windows_of(20), threads=4))
    assert got == [str(n) for n in range(5)]


def test_closing_the_reader_early_stops_the_workers():
    started = []

    def fetch(window: tuple[str, str]) -> Iterator[str]:
        started.append(window[0])
        yield from (window[0] for _ in range(100))

    reader = iter(WindowReader(fetch, windows_of(1000), threads=4))
    next(reader)
    reader.close()  # type: ignore[attr-defined]
    time.sleep(0.3)
    count = len(started)
    time.sleep(0.2)
    assert len(started) == count < 1000, "no window is started after the caller stopped"
