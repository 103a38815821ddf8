"""Concurrent window reads: a time-series window cut into sub-windows read at once, pages kept in time order.

Paging a time series is sequential (each ``Link`` comes with the page before it), so one read
waits a full round trip per page: at 50–200 ms per call that, not the client, is the limit. A read
of ``(from, to]`` is instead:

1. The first page is read as usual. Without a ``Link`` the read is done: a small window costs the
   single call it always did.
2. Its records all lie in ``(from, t]``, ``t`` its last record's ``_time`` (records are unique per
   ``_time`` and sorted), so the rest is exactly ``(t, to]``. The first page's records also give
   the data's density, which sizes the sub-windows: each should hold about
   :data:`PAGES_PER_WINDOW` full pages, so cutting costs few extra calls (one partial page per
   sub-window at most). Sub-windows share their bounds, ``(a, b]`` then ``(b, c]``, so with
   ``from`` exclusive and ``to`` inclusive no record is read twice or missed. Estimated at one
   sub-window or fewer, the read simply goes on sequentially.
3. ``threads`` workers read sub-windows in time order over the client's one session and token,
   each following its own ``Link`` pages. The caller receives pages strictly in time order.

How many threads (``concurrency="auto"``, the read operator's default): enough calls in flight to
cover the latency. A worker waits one round trip per page, while the caller spends a few
milliseconds of CPU on each (parse, decode, write); with ``round trip / PAGE_TIME_S`` calls in
flight (Little's law) a page is always waiting when the caller wants the next. The round trip is
the first page's (``Response.elapsed``: sent to headers received), so it is known before any
sub-window starts; the count is rounded up to a rung of :data:`AUTO_THREADS`, from 4 on a fast
network (more threads there only hold more pages: ``python -m benchmarks`` measured 4 threads as
fast as 16 on loopback, with a third of the memory) to 64 beyond 144 ms. A fixed count can
be given instead (1 reads sequentially).

Memory is bounded: a worker starts sub-window ``k`` only while ``k`` is less than ``1.5 × threads``
ahead of the one the caller is reading, and each sub-window holds at most ``PAGES_PER_WINDOW``
pages waiting, so at most ``1.5 × threads × (PAGES_PER_WINDOW + 1)`` pages are held, as undecoded
response bytes (about a fifth of the memory of the decoded records); only the page being
written is decoded. With 16 threads and 4 pages that is 120 pages of at most 2000 records, about
20–30 MB for typical aspects (a 2000-record page of four variables is about 190 kB); 4 threads
(a fast network) hold at most 30 pages, 64 threads (beyond 144 ms) at most 480, though at that
latency the caller keeps up and few are ever waiting.

Calls are paced by the transport's shared :class:`~airflow_provider_mdsp.client.pacing.RatePacer`:
after a 429 every thread holds until ``Retry-After`` has passed and then the calls leave at a rate
the service allows, so a throttled tenant sees about one 429 per thread, not one per thread per
quota window.
"""

from __future__ import annotations

import itertools
import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import requests

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.pacing import RatePacer
from airflow_provider_mdsp.client.pagination import (
    CLOSE_WAIT_S,
    Page,
    Progress,
    checked_pages,
    drain,
    feed,
    iter_link_responses,
    link_page,
    next_link,
    read_ahead,
)
from airflow_provider_mdsp.client.transport import POOL_SIZE, Transport
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import parse_time

log = logging.getLogger(__name__)

#: ``concurrency`` value that sizes the thread pool from the first page's round trip (:func:`auto_threads`).
AUTO = "auto"
#: Concurrency of the read operator by default.
DEFAULT_CONCURRENCY = AUTO
#: Client time per page the automatic count plans for: about what parsing, decoding and writing a
#: 2000-record page costs on one core (``python -m benchmarks``), so ``round trip / PAGE_TIME_S``
#: calls in flight keep the caller fed.
PAGE_TIME_S = 0.003
#: The thread counts ``"auto"`` chooses from: a few rungs, so a round trip that varies a little
#: between runs gives the same count (and the same sub-windows).
AUTO_THREADS = (4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Full pages a sub-window is sized to hold, from the density of the first page.
PAGES_PER_WINDOW = 4
#: Share of those pages a sub-window is sized to fill, so a slightly denser stretch still fits.
FILL = 0.95
#: Most sub-windows one read is cut into.
MAX_WINDOWS = 100_000

Window = tuple[str, str]


def check_concurrency(value: Any) -> int | None:
    """Return the thread count of a read (``None`` for ``"auto"``), refusing what is not 1 to the pool's size.

    :raises MdspConfigError: naming ``concurrency``.
    """
    if value == AUTO:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= POOL_SIZE:
        raise MdspConfigError(
            f"concurrency must be 'auto' or a whole number from 1 (sequential) to {POOL_SIZE}, not {value!r}",
            field="concurrency",
        )
    return value


def auto_threads(round_trip_s: float) -> int:
    """Return the threads whose calls in flight cover a round trip of ``round_trip_s`` seconds.

    Pure: ``round_trip_s / PAGE_TIME_S`` rounded up to the next rung of :data:`AUTO_THREADS`
    (the last rung beyond it). Loopback (a few ms) gives 4, 50 ms gives 24, 100 ms 48, 150 ms and more 64.

    :param round_trip_s: the first page's time from request sent to answer received.
    """
    wanted = round_trip_s / PAGE_TIME_S
    return next((rung for rung in AUTO_THREADS if rung >= wanted), AUTO_THREADS[-1])


def to_ms(text: str, name: str) -> int:
    """Return an ISO 8601 time as epoch milliseconds (truncated, as the API's precision is 1 ms)."""
    moment = parse_time(text, name=name)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def format_ms(ms: int) -> str:
    """Render epoch milliseconds as the API's ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    moment = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def plan_windows(first_page: Page, start: str, end: str, *, limit: int, threads: int = 1) -> list[Window]:
    """Cut ``(t, end]`` into sub-windows, ``t`` the last ``_time`` of the first page of ``(start, end]``.

    Pure: sizes come from the density of the first page's records, so each sub-window holds about
    whole pages of ``limit`` records, as many as :func:`window_count` finds quickest. Returns a
    single window when the rest is estimated to fit in :data:`PAGES_PER_WINDOW` pages.

    :param first_page: the first page's records, sorted by ``_time`` ascending.
    :param start: the read's exclusive start, as sent.
    :param end: the read's inclusive end, as sent.
    :param limit: records per page.
    :param threads: threads that will read the sub-windows.
    """
    last_text = str(first_page[-1]["_time"])
    first_ms, last_ms, end_ms = to_ms(str(first_page[0]["_time"]), "_time"), to_ms(last_text, "_time"), to_ms(end, "to")
    if end_ms <= last_ms + 1:
        return [(last_text, end)]
    if last_ms > first_ms and len(first_page) > 1:
        per_ms = (len(first_page) - 1) / (last_ms - first_ms)
    else:
        per_ms = len(first_page) / max(last_ms - to_ms(start, "from"), 1)
    pages = per_ms * (end_ms - last_ms) / limit
    if pages <= PAGES_PER_WINDOW * FILL:
        return [(last_text, end)]
    count = max(1, min(window_count(pages, threads), MAX_WINDOWS, end_ms - last_ms))
    bounds = [last_ms + (end_ms - last_ms) * k // count for k in range(count + 1)]
    texts = [last_text, *(format_ms(ms) for ms in bounds[1:-1]), end]
    return list(itertools.pairwise(texts))


def window_count(pages: float, threads: int) -> int:
    """Return how many sub-windows to cut ``pages`` pages into, for the shortest read by ``threads`` threads.

    A sub-window sized for ``m`` pages (at most :data:`PAGES_PER_WINDOW`, each :data:`FILL` full)
    costs ``m`` calls; with more sub-windows than threads their number is rounded up to a
    multiple of ``threads`` so the threads finish together. The read then takes about
    ``count / threads × m`` round trips: the ``m`` with the fewest wins, ties going to the larger
    sub-windows (fewer calls in all). 99 pages on 16 threads: 112 sub-windows of one page, 7 round
    trips, where 32 of 4 pages take 8 and 128 calls.

    :param pages: pages the rest of the window is estimated to hold.
    :param threads: threads reading.
    """
    best: tuple[float, int, int] | None = None
    for m in range(PAGES_PER_WINDOW, 0, -1):
        count = math.ceil(pages / (m * FILL))
        if count >= threads > 1:
            count = math.ceil(count / threads) * threads
        trips = math.ceil(count / max(threads, 1)) * m
        if best is None or trips < best[0]:
            best = (trips, -m, count)
    return best[2] if best else 1


def iter_window_pages(
    transport: Transport,
    path: str,
    *,
    params: Mapping[str, Any],
    threads: int | None,
    prefetch: int = 1,
) -> Iterator[Page]:
    """Yield the pages of ``(params["from"], params["to"]]`` in time order, read by ``threads`` workers.

    The read makes progress or stops as a sequential read does
    (:class:`~airflow_provider_mdsp.client.pagination.Progress`): the pages the caller receives, whichever
    sub-window they came from, are counted against ``max_pages``, and a page whose first record is not
    past the previous page's last ``_time`` ends the read with
    :class:`~airflow_provider_mdsp.exceptions.MdspPagingError` before it is handed out.

    :param transport: the transport (its session, token and pacer are shared by the workers).
    :param path: the time-series path.
    :param params: ``from``, ``to``, ``limit``, ``select`` as sent (``sort`` must be ascending).
    :param threads: workers; 1 reads sequentially with ``prefetch`` pages fetched ahead; ``None``
        chooses from the first page's round trip (:func:`auto_threads`).
    :param prefetch: pages read ahead when the read stays sequential.
    """
    return checked_pages(_window_pages(transport, path, params, threads, prefetch), Progress(transport, path))


def _window_pages(
    transport: Transport, path: str, params: Mapping[str, Any], threads: int | None, prefetch: int
) -> Iterator[Page]:
    responses = iter_link_responses(transport, path, params=params)
    first = next(responses)
    page = link_page(first, path)
    yield page
    round_trip = first.elapsed.total_seconds()
    if threads is None:
        threads = auto_threads(round_trip)
    if threads <= 1 or not page or not next_link(first.headers.get("Link")):
        yield from read_ahead((link_page(r, path) for r in responses), prefetch)
        return
    limit = int(params.get("limit") or 2000)
    windows = plan_windows(page, str(params["from"]), str(params["to"]), limit=limit, threads=threads)
    if len(windows) == 1:
        yield from read_ahead((link_page(r, path) for r in responses), prefetch)
        return
    responses.close()
    if transport.pacer is None:
        transport.pacer = RatePacer(sleep=getattr(transport, "_sleep", timeutil.sleep))

    def fetch(window: Window) -> Iterator[requests.Response]:
        return iter_link_responses(transport, path, params={**params, "from": window[0], "to": window[1]})

    log.info(
        "Reading the rest of the window in %d sub-windows with %d threads (the first page answered in %.0f ms)",
        len(windows),
        threads,
        round_trip * 1000,
        extra={"mdsp_threads": threads},
    )
    reader = WindowReader(fetch, windows, threads=threads)
    for response in reader:
        yield link_page(response, path)


class WindowReader:
    """Read sub-windows with a pool of threads and yield their items strictly in window order.

    :param fetch: ``window -> iterator of items`` (responses), run in a worker thread.
    :param windows: the sub-windows, in order.
    :param threads: workers.
    :param per_window: items a sub-window may hold waiting for the caller.
    :param ahead: how far past the caller's sub-window a worker may start one (default ``1.5 × threads``).
    """

    def __init__(
        self,
        fetch: Callable[[Window], Iterator[Any]],
        windows: list[Window],
        *,
        threads: int,
        per_window: int = PAGES_PER_WINDOW,
        ahead: int | None = None,
    ) -> None:
        self.fetch = fetch
        self.windows = windows
        self.threads = max(1, min(threads, len(windows)))
        self.per_window = per_window
        self.ahead = ahead or threads + threads // 2
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._queues: dict[int, queue.Queue[tuple[str, Any]]] = {}
        self._next = 0
        self._reading = 0

    def __iter__(self) -> Iterator[Any]:
        workers = [
            threading.Thread(target=self._work, name=f"mdsp-window-{n}", daemon=True) for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            for index in range(len(self.windows)):
                yield from self._drain(index)
        finally:
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            for worker in workers:  # no request of a closed read outlives it (see CLOSE_WAIT_S)
                worker.join(CLOSE_WAIT_S)
                if worker.is_alive():  # its request's own deadline ends it; wait no longer
                    break

    def _drain(self, index: int) -> Iterator[Any]:
        with self._cond:
            self._reading = index
            self._cond.notify_all()
            while index not in self._queues:
                self._cond.wait()
            pending = self._queues[index]
        yield from drain(pending)
        with self._cond:
            del self._queues[index]

    def _claim(self) -> int | None:
        with self._cond:
            while not self._stop.is_set():
                if self._next >= len(self.windows):
                    return None
                if self._next < self._reading + self.ahead:
                    index, self._next = self._next, self._next + 1
                    self._queues[index] = queue.Queue(maxsize=self.per_window)
                    self._cond.notify_all()
                    return index
                self._cond.wait()
        return None

    def _work(self) -> None:
        while (index := self._claim()) is not None:
            # An error goes to the caller, who raises it in order; this worker then stops.
            if not feed(self.fetch(self.windows[index]), self._queues[index], self._stop):
                return
