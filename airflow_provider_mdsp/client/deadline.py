"""Wall-clock deadlines for whole responses, and a bound on how much a response may hold.

``requests`` knows only per-socket-operation timeouts: a server or proxy that trickles one byte
every few seconds never trips them and holds a task for hours. Here every attempt runs under a
:class:`Watchdog`. The HTTP connections an attempt sends on are registered with the watchdogs of
its thread; when a deadline passes, their sockets are shut down, so whatever blocks (connect,
headers, body) returns at once, and the transport reports the deadline by its connection field.

All watchdogs of a process share one timer thread (:class:`_Deadlines`, a heap of deadlines):
a thread started per attempt cost about a tenth of a loopback page's client time and, with
many reading threads, contended for the GIL (``python -m benchmarks``). A forked child (Celery's
prefork pool, Airflow's task supervisor) starts its own timer thread on first use.

The body is read by the transport in chunks of decoded bytes, counted as they arrive, so a
compressed bomb is refused after :data:`DEFAULT_MAX_RESPONSE_BYTES` instead of inflating in memory.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_mdsp.exceptions import MdspResponseTooLargeError

#: Decoded bytes read per step of a body: a whole 2000-record time-series page (about 190 kB) in one
#: or two reads; a compressed bomb is still refused at most this much past ``max_response_bytes``.
CHUNK_BYTES = 256 * 1024

_active: dict[int, list[Watchdog]] = {}
_active_lock = threading.Lock()


class _Deadlines:
    """One daemon thread that fires the watchdogs whose deadline has passed, earliest first."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._cancelled = 0

    def add(self, watchdog: Watchdog, when: float) -> None:
        """Fire ``watchdog`` at monotonic time ``when`` unless it is cancelled first."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), watchdog))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mdsp-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._cond.notify()

    def cancelled(self) -> None:
        """Count one more cancelled watchdog; sweep them out once they are half the heap.

        Cancelled entries otherwise stay until their deadline (minutes), and a fast read makes
        hundreds of calls a second.
        """
        with self._cond:
            self._cancelled += 1
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled = max(self._cancelled - 1, 0)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = heapq.heappop(self._heap)[2]
            due._fire()


_deadlines = _Deadlines()


def _after_fork() -> None:
    # The parent's timer thread does not exist in a forked child, and its lock may be held.
    global _deadlines, _active_lock
    _deadlines, _active_lock = _Deadlines(), threading.Lock()
    _active.clear()


os.register_at_fork(after_in_child=_after_fork)


class Watchdog:
    """Shut down the sockets of the current thread's requests when ``seconds`` have passed.

    :param seconds: the deadline, from entering the ``with`` block.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self.cancelled = False
        self._connections: list[Any] = []
        self._thread = threading.get_ident()

    def __enter__(self) -> Watchdog:
        with _active_lock:
            _active.setdefault(self._thread, []).append(self)
        _deadlines.add(self, time.monotonic() + max(self.seconds, 0.0))
        return self

    def __exit__(self, *exc: object) -> None:
        with _active_lock:
            self.cancelled = True
            self._connections = []
            stack = _active.get(self._thread, [])
            if self in stack:
                stack.remove(self)
            if not stack:
                _active.pop(self._thread, None)
        _deadlines.cancelled()

    def _fire(self) -> None:
        # Under the lock: a watchdog whose block has ended never shuts a socket down (the
        # connection is back in the pool, maybe sending another call).
        with _active_lock:
            if self.cancelled:
                return
            self.fired = True
            for conn in self._connections:
                sock = getattr(conn, "sock", None)
                if sock is not None:
                    with suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


def _register(conn: Any) -> None:
    """Put a connection about to send under every watchdog of this thread (one past its deadline fires at once)."""
    with _active_lock:
        watchdogs = list(_active.get(threading.get_ident(), ()))
        for watchdog in watchdogs:
            watchdog._connections.append(conn)
    for watchdog in watchdogs:
        if watchdog.fired:
            watchdog._fire()


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections register with the thread's watchdogs before sending."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def read_body(response: requests.Response, max_bytes: int, *, field: str = "max_response_mb") -> bytes:
    """Read a streamed response's whole body (decoded), refusing more than ``max_bytes``.

    The body is then available as ``response.content`` / ``.text`` as if it had not been streamed.

    :param response: a response sent with ``stream=True``.
    :param max_bytes: the most decoded bytes accepted.
    :param field: the connection field named in the error.
    :raises MdspResponseTooLargeError: the body is larger; nothing more is read.
    """
    chunks, total = [], 0
    for chunk in response.iter_content(CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            response.close()
            where = f"{response.request.method} {(response.url or '').split('?', 1)[0]}"
            raise MdspResponseTooLargeError(
                f"The answer from {where} holds more than {max_bytes / (1024 * 1024):g} MiB once decoded; "
                f"refused. Raise connection field '{field}' if it is legitimate",
                status=response.status_code,
            )
        chunks.append(chunk)
    body = b"".join(chunks)
    # What requests does when it reads the body itself: .content and .text now serve it.
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return body


@contextmanager
def watching(seconds: float) -> Iterator[Watchdog]:
    """Run a block under a :class:`Watchdog` of ``seconds``."""
    with Watchdog(seconds) as watchdog:
        yield watchdog
