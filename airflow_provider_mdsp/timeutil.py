"""Time for the whole provider: parse what users give, render what the gateway expects, one clock.

Parsing: every time parameter (service clients, operators, sensors, triggers) accepts an aware
:class:`~datetime.datetime` (pendulum's too) or an ISO 8601 string with an offset: ``Z``, ``+02:00``
or ``+0200``, any number of fraction digits. ``datetime.fromisoformat`` of Python 3.10 (which
``pyproject.toml`` admits) accepts neither ``Z`` nor ``+0200`` nor fractions other than 3 or 6 digits,
so the parts are matched here and the same code runs on every Python. Naive values are refused
rather than guessed: a worker's local time zone silently shifting a window by hours is the bug this
prevents.

Rendering: UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``: time series precision is 1 ms (Siemens docs, IoT Time
Series overview) and the Node SDK sends ``toISOString()`` (``utils.ts`` ``toQueryString``).

Clock: every layer reads the time and sleeps through :func:`utcnow`, :func:`epoch`,
:func:`monotonic`, :func:`sleep` and :func:`async_sleep`, which ask the one installed
:class:`Clock`. Tests install a :class:`ManualClock` (:func:`using_clock`) and never wait in real time.
This module imports only :mod:`airflow_provider_mdsp.exceptions`, so DAG parsing stays cheap.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from airflow_provider_mdsp.exceptions import MdspConfigError

TimeValue = datetime | str

# ISO 8601 as the APIs and Airflow templates write it, matched in parts (see the module docstring).
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<frac>\d+))?\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_EXAMPLE = "2026-05-01T10:00:00Z"
#: The one call into the standard parser, given only ``YYYY-MM-DDTHH:MM[:SS].ffffff+HH:MM``, which every
#: Python since 3.7 reads; a name of its own so a test can put Python 3.10's stricter parser in its place.
_fromisoformat = datetime.fromisoformat


def parse_time(value: str, *, name: str = "time", assume_utc: bool = False) -> datetime:
    """Parse an ISO 8601 timestamp with an offset into an aware UTC datetime.

    :param value: e.g. ``2026-05-01T10:00:00Z``, ``2026-05-01T10:00:00.5Z``, ``2026-05-01T12:00:00+0200``.
    :param name: the parameter named in the error message.
    :param assume_utc: take a value without offset as UTC instead of refusing it (record times only).
    :raises MdspConfigError: the text is not ISO 8601, not a real date, or has no offset.
    """
    match = _ISO.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise MdspConfigError(f"{name} must be an ISO 8601 time such as {_EXAMPLE}, got {value!r}", field=name)
    tz = (match.group("tz") or ("Z" if assume_utc else "")).upper()
    if not tz:
        raise MdspConfigError(
            f"{name} {value!r} has no time zone; add 'Z' for UTC or an offset such as +02:00", field=name
        )
    if tz != "Z" and ":" not in tz:
        tz = tz[:3] + ":" + (tz[3:] or "00")
    frac = (match.group("frac") or "")[:6].ljust(6, "0")
    clock = match.group("time") if len(match.group("time")) == 8 else match.group("time") + ":00"
    text = f"{match.group('date')}T{clock}.{frac}{'+00:00' if tz == 'Z' else tz}"
    try:
        parsed = _fromisoformat(text)
    except ValueError:
        raise MdspConfigError(f"{name} {value!r} is not a valid date and time", field=name) from None
    return parsed.astimezone(timezone.utc)


def to_datetime(value: Any, *, name: str = "time", assume_utc: bool = False) -> datetime:
    """Return ``value`` as an aware UTC datetime, refusing naive values.

    :param value: an aware datetime (pendulum's too) or an ISO 8601 string with an offset.
    :param name: the parameter named in the error message.
    :param assume_utc: take a naive value as UTC instead of refusing it (record times only).
    """
    if isinstance(value, str):
        return parse_time(value, name=name, assume_utc=assume_utc)
    if not isinstance(value, datetime):
        raise MdspConfigError(
            f"{name} must be an aware datetime or an ISO 8601 string, got {type(value).__name__}", field=name
        )
    if value.tzinfo is None or value.utcoffset() is None:
        if not assume_utc:
            raise MdspConfigError(
                f"{name} is a naive datetime; give it a time zone, e.g. datetime(..., tzinfo=timezone.utc)",
                field=name,
            )
        value = value.replace(tzinfo=timezone.utc)
    moment = value.astimezone(timezone.utc)
    # pendulum's DateTime is a datetime subclass; give every caller the plain type.
    if type(moment) is datetime:
        return moment
    m = moment
    return datetime(m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond, tzinfo=timezone.utc)


def to_utc(value: Any, name: str) -> datetime | None:
    """Parse an optional (templated) time parameter: ``None`` and ``""`` are ``None``.

    :param value: ``None``, ``""``, an aware datetime (pendulum's too) or an ISO 8601 string.
    :param name: the parameter named in the error message.
    """
    if value is None or value == "":
        return None
    return to_datetime(value, name=name)


def record_time(value: Any) -> datetime | None:
    """Return the time of a record field as aware UTC, or ``None`` when it holds no readable time.

    Records are data, not parameters: a naive time is taken as UTC and an unreadable one is skipped.

    :param value: a datetime or an ISO 8601 string.
    """
    if not isinstance(value, (str, datetime)) or value == "":
        return None
    try:
        return to_datetime(value, name="record time", assume_utc=True)
    except MdspConfigError:
        return None


def format_time(value: TimeValue, *, name: str = "time") -> str:
    """Render a time as UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (1 ms precision).

    Microseconds are truncated, not rounded, as ``Date.toISOString()`` does, so a rendered bound
    never moves past the instant it was given.

    :param value: an aware datetime or an ISO 8601 string with an offset.
    :param name: the parameter named in the error message.
    :raises MdspConfigError: the value is naive, not a time, or not ISO 8601.
    """
    utc = to_datetime(value, name=name)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def shift(value: TimeValue, *, seconds: float, name: str = "time") -> str:
    """Render ``value`` moved by ``seconds`` (may be negative), in the API format."""
    return format_time(to_datetime(value, name=name) + timedelta(seconds=seconds), name=name)


def deadline_after(timeout: float | timedelta | None) -> str | None:
    """Return the instant ``timeout`` from now in the API format (``None``: no deadline).

    :param timeout: seconds or a timedelta.
    """
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return format_time(utcnow() + timedelta(seconds=seconds))


def next_wait(poll_interval: float, remaining: float | None) -> float | None:
    """Decide the wait before the next check of a poll: ``None`` once the deadline has passed.

    The one deadline rule of every poll loop (worker and triggerer): wait ``poll_interval``, but
    never past the deadline, so the last check happens at the deadline itself.

    :param poll_interval: seconds between checks.
    :param remaining: seconds left until the deadline; ``None`` for no deadline.
    """
    if remaining is None:
        return poll_interval
    if remaining <= 0:
        return None
    return min(poll_interval, remaining)


def seconds_until(deadline: datetime | None) -> float | None:
    """Return the seconds left until ``deadline`` on the installed clock (``None``: no deadline)."""
    return None if deadline is None else (deadline - utcnow()).total_seconds()


class Clock(Protocol):
    """What the provider needs of a clock: wall time, a monotonic counter, and two ways to wait."""

    def epoch(self) -> float:
        """Return wall time in seconds since the epoch."""

    def monotonic(self) -> float:
        """Return a counter in seconds that never goes back."""

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""

    async def async_sleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the event loop."""


class SystemClock:
    """The real clock: :func:`time.time`, :func:`time.monotonic`, :func:`time.sleep`, :func:`asyncio.sleep`."""

    def epoch(self) -> float:
        """Return wall time in seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """Wait ``seconds`` in the event loop."""
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to or slept on: waits take no real time.

    :param start: the wall time it starts at, seconds since the epoch (default: now).
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else float(start)
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def epoch(self) -> float:
        """Return the clock's wall time."""
        return self.now

    def monotonic(self) -> float:
        """Return the seconds this clock has moved."""
        return self.elapsed

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds
        self.elapsed += seconds

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock by it, at once."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        """Like :meth:`sleep`, then let other tasks of the event loop run."""
        self.sleep(seconds)
        await asyncio.sleep(0)


_installed: Clock = SystemClock()


def current_clock() -> Clock:
    """Return the installed clock."""
    return _installed


@contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for every layer while the block runs, then put the previous one back."""
    global _installed
    previous, _installed = _installed, clock
    try:
        yield clock
    finally:
        _installed = previous


def utcnow() -> datetime:
    """Return the installed clock's time as an aware UTC datetime."""
    return datetime.fromtimestamp(_installed.epoch(), timezone.utc)


def epoch() -> float:
    """Return the installed clock's time in seconds since the epoch."""
    return _installed.epoch()


def monotonic() -> float:
    """Return the installed clock's monotonic seconds."""
    return _installed.monotonic()


def sleep(seconds: float) -> None:
    """Block ``seconds`` on the installed clock (the default sleep of every retry and poll loop)."""
    _installed.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait ``seconds`` on the installed clock without blocking the event loop."""
    await _installed.async_sleep(seconds)
