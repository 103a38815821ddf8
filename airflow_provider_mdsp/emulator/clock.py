"""The emulator's own clock: wall time plus an offset that tests move forward over HTTP.

As moto's state manager lets a test move a resource to its next state without waiting, a test of
token expiry, refresh-token lifetimes, bulk-job progress or rate-limit windows advances this clock
(``POST /_emulator/clock/advance {"seconds": 600}``, :meth:`EmulatorHandle.advance_clock`) instead
of sleeping in real time. Every model of one emulator reads this one clock; ``/_emulator/reset``
puts it back to wall time.
"""

from __future__ import annotations

import threading
import time


class EmulatorClock:
    """Wall and monotonic time of one emulator, both moved by :meth:`advance`."""

    def __init__(self) -> None:
        self._offset_s = 0.0
        self._lock = threading.Lock()

    @property
    def offset_s(self) -> float:
        """Seconds this clock runs ahead of wall time."""
        return self._offset_s

    def time(self) -> float:
        """Return the emulator's time in seconds since the epoch."""
        return time.time() + self._offset_s

    def now_ms(self) -> int:
        """Return the emulator's time in epoch milliseconds."""
        return time.time_ns() // 1_000_000 + int(self._offset_s * 1000)

    def monotonic(self) -> float:
        """Return monotonic seconds that include every advance."""
        return time.monotonic() + self._offset_s

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        :param seconds: how far; must not be negative (time never runs back for the models).
        :raises ValueError: ``seconds`` is negative or not finite.
        """
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            self._offset_s += seconds

    def reset(self) -> None:
        """Go back to wall time."""
        with self._lock:
            self._offset_s = 0.0
