"""Progress of long reads in the task log: records so far, share of the window, rate and time left.

A read of millions of records takes minutes; a user watching the task log should see it move, as
Airflow's own transfer operators show. Reads log nothing extra when they finish within
:data:`PROGRESS_EVERY_S`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.timeutil import record_time

#: Seconds between two progress lines of one read.
PROGRESS_EVERY_S = 10.0


def progress_message(records: int, covered: float | None, elapsed: float) -> str:
    """Describe a read in progress: records so far, share of the window, records/s and time left.

    :param records: records read so far.
    :param covered: share of the window read so far (0 to 1), or ``None`` when unknown.
    :param elapsed: seconds since the read began.
    """
    rate = records / elapsed if elapsed > 0 else 0.0
    parts = [f"{records:,} records so far"]
    if covered is not None:
        parts.append(f"{covered:.0%} of the window")
    parts.append(f"{rate:,.0f} records/s")
    if covered is not None and 0 < covered < 1:
        parts.append(f"about {elapsed * (1 - covered) / covered:,.0f} s left")
    return ", ".join(parts)


def window_share(start: datetime, end: datetime, reached: datetime | None) -> float | None:
    """Return the share of ``(start, end]`` up to ``reached`` (clamped to 0–1), ``None`` when unknown."""
    span = (end - start).total_seconds()
    if reached is None or span <= 0:
        return None
    return min(max((reached - start).total_seconds() / span, 0.0), 1.0)


class ReadProgress:
    """Log a read's progress every :data:`PROGRESS_EVERY_S` seconds while its pages pass through.

    :param start: the window's start.
    :param end: the window's end.
    :param log: the task's logger (anything with ``info``).
    :param every: seconds between lines.
    :param clock: monotonic seconds clock (injectable for tests).
    :param time_field: record key of the time.
    """

    def __init__(
        self,
        start: datetime,
        end: datetime,
        log: Any,
        *,
        every: float = PROGRESS_EVERY_S,
        clock: Callable[[], float] = timeutil.monotonic,
        time_field: str = "_time",
    ) -> None:
        self.start, self.end, self.log = start, end, log
        self.every, self.clock, self.time_field = every, clock, time_field
        self.records = 0
        self.lines = 0

    def track(self, pages: Iterable[list[dict]]) -> Iterator[list[dict]]:
        """Yield ``pages`` unchanged, logging progress at a steady pace."""
        began = self.clock()
        next_line = began + self.every
        for page in pages:
            self.records += len(page)
            now = self.clock()
            if now >= next_line and page:
                reached = record_time(page[-1].get(self.time_field) if isinstance(page[-1], dict) else None)
                covered = window_share(self.start, self.end, reached)
                self.log.info("Reading: %s", progress_message(self.records, covered, now - began))
                self.lines += 1
                next_line = now + self.every
            yield page
