"""The watchdogs' shared timer: deadlines fire in order, ended blocks leave nothing behind, forks work."""

from __future__ import annotations

import multiprocessing
import socket
import time

from airflow_provider_mdsp.client import deadline
from airflow_provider_mdsp.client.deadline import Watchdog


class Conn:
    """A connection as urllib3 holds it: its socket under ``sock``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


def blocked_read_ends_at_deadline(seconds: float) -> tuple[bool, float]:
    """Block on a socket nobody writes to under a watchdog; return whether it fired and when the read ended."""
    left, right = socket.socketpair()
    began = time.monotonic()
    try:
        with Watchdog(seconds) as watchdog:
            deadline._register(Conn(left))
            left.recv(1)  # returns b"" once the watchdog shuts the socket down
        return watchdog.fired, time.monotonic() - began
    finally:
        left.close()
        right.close()


def test_a_deadline_shuts_down_the_blocked_socket_and_a_later_one_waits():
    fired, elapsed = blocked_read_ends_at_deadline(0.2)
    assert fired
    assert 0.15 <= elapsed < 2.0
    with Watchdog(30) as later:  # an earlier deadline entered after a later one still fires first
        fired, elapsed = blocked_read_ends_at_deadline(0.1)
    assert fired
    assert elapsed < 2.0
    assert not later.fired


def test_ended_watchdogs_do_not_pile_up_until_their_deadline():
    for _ in range(5000):
        with Watchdog(600):
            pass
    assert len(deadline._deadlines._heap) <= 200, "cancelled deadlines are swept out, not kept for 10 minutes"


def test_an_ended_watchdog_never_fires():
    left, right = socket.socketpair()
    try:
        with Watchdog(0.05) as watchdog:
            deadline._register(Conn(left))
        time.sleep(0.3)
        right.sendall(b"x")
        assert left.recv(1) == b"x", "the socket of a finished call stays usable"
        assert not watchdog.fired
    finally:
        left.close()
        right.close()


def _child(queue: multiprocessing.Queue) -> None:
    queue.put(blocked_read_ends_at_deadline(0.1))


def test_a_forked_worker_has_its_own_timer():
    blocked_read_ends_at_deadline(0.05)  # the parent's timer thread runs
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    fired, elapsed = queue.get(timeout=20)
    child.join(20)
    assert fired
    assert elapsed < 5.0
