"""Time for tests: one instant in every spelling, Python 3.10's stricter ISO parser, and a clock shared
with the emulator so that tests let time pass without waiting for it."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pendulum

from airflow_provider_mdsp.timeutil import using_clock

# Python 3.10's datetime.fromisoformat reads only YYYY-MM-DD[THH[:MM[:SS[.fff[fff]]]]][+HH:MM]: no "Z",
# no "+0200", no fraction of another length (docs.python.org, datetime, "Changed in version 3.11").
_PY310_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{3}|\.\d{6})?)?)?([+-]\d{2}:\d{2})?)?$")

#: The same instant, 2026-05-01T10:00:00.500Z, as users write it.
SAME_INSTANT = [
    "2026-05-01T10:00:00.5Z",
    "2026-05-01T12:00:00.5+0200",
    "2026-05-01T12:00:00.500+02:00",
    "2026-05-01 10:00:00,500000000z",
    datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2))),
    pendulum.datetime(2026, 5, 1, 12, 0, 0, 500000, tz="Europe/Berlin"),
]


def py310_fromisoformat(text: str) -> datetime:
    """Parse as Python 3.10's ``datetime.fromisoformat`` does: refuse what it refuses."""
    if not _PY310_ISO.match(text):
        raise ValueError(f"Invalid isoformat string: {text!r}")
    return datetime.fromisoformat(text)


class EmulatorTime:
    """The provider's clock in step with an emulator's: real time plus every wait, which moves the emulator too.

    A retry's backoff, a 429's ``Retry-After`` or a test's :meth:`advance` costs no real time: the
    emulator's clock (its rate-limit windows, token lifetimes, generated data) moves by the wait,
    and so do this clock's wall time and monotonic counter, so the provider's token freshness,
    retry deadlines and watcher windows see the same time as the emulator. Waits of concurrent
    threads add up (two threads backing off 1 s move time by 2 s). Use a fresh emulator per test:
    its clock stays ahead of real time afterwards.

    :param emulator: the emulator's handle (its ``advance_clock`` is one loopback call).
    """

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.waited = 0.0
        self._lock = threading.Lock()

    def epoch(self) -> float:
        """Return real wall time plus everything waited so far."""
        return time.time() + self.waited

    def monotonic(self) -> float:
        """Return the real monotonic counter plus everything waited so far."""
        return time.monotonic() + self.waited

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the provider and the emulator alike, at once."""
        if seconds > 0:
            with self._lock:
                self.emulator.advance_clock(seconds)
                self.waited += seconds

    def sleep(self, seconds: float) -> None:
        """Wait by advancing both clocks instead of sleeping."""
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """Like :meth:`sleep`, then let other tasks of the event loop run."""
        self.advance(seconds)
        await asyncio.sleep(0)


@contextmanager
def waits_on_emulator(emulator: Any) -> Iterator[EmulatorTime]:
    """Install :class:`EmulatorTime` for the provider while the block runs."""
    clock = EmulatorTime(emulator)
    with using_clock(clock):
        yield clock
