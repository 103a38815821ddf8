"""Time values for the Insights Hub APIs: parse what users give, render what the gateway expects.

Every ``from_``/``to``/``timestamp`` parameter of the service clients accepts an aware
:class:`~datetime.datetime` or an ISO 8601 string with an offset. Both are rendered as UTC
``YYYY-MM-DDTHH:MM:SS.mmmZ``: time series precision is 1 ms (insights-hub-api.md §4) and the Node SDK
sends ``toISOString()`` (§1). Naive values are refused rather than guessed: a worker's local time
zone silently shifting a window by hours is the bug this prevents.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from airflow_provider_mdsp.exceptions import MdspConfigError

TimeValue = datetime | str

# ISO 8601 as the APIs and Airflow templates write it. ``datetime.fromisoformat`` of Python 3.10
# accepts neither "Z" nor fractions other than 3 or 6 digits, so the parts are matched here.
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<frac>\d+))?\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_time(value: str, *, name: str = "time") -> datetime:
    """Parse an ISO 8601 timestamp with an offset into an aware UTC datetime.

    :param value: e.g. ``2024-05-01T10:00:00Z``, ``2024-05-01T12:00:00.123456+02:00``.
    :param name: the parameter named in the error message.
    :raises MdspConfigError: the text is not ISO 8601 or has no offset.
    """
    match = _ISO.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise MdspConfigError(
            f"{name} must be an ISO 8601 timestamp such as 2024-05-01T10:00:00Z, got {value!r}",
            field=name,
        )
    if not match.group("tz"):
        raise MdspConfigError(
            f"{name} {value!r} has no time zone; add 'Z' for UTC or an offset such as +02:00",
            field=name,
        )
    frac = (match.group("frac") or "")[:6].ljust(6, "0")
    tz = match.group("tz").upper()
    if tz != "Z" and ":" not in tz:
        tz = tz[:3] + ":" + (tz[3:] or "00")
    text = f"{match.group('date')}T{match.group('time')}.{frac}{'+00:00' if tz == 'Z' else tz}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MdspConfigError(f"{name} {value!r} is not a valid date and time", field=name) from None
    return parsed.astimezone(timezone.utc)


def to_datetime(value: TimeValue, *, name: str = "time") -> datetime:
    """Return ``value`` as an aware UTC datetime, refusing naive datetimes.

    :param value: an aware datetime or an ISO 8601 string with an offset.
    :param name: the parameter named in the error message.
    """
    if isinstance(value, str):
        return parse_time(value, name=name)
    if not isinstance(value, datetime):
        raise MdspConfigError(
            f"{name} must be an aware datetime or an ISO 8601 string, got {type(value).__name__}",
            field=name,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise MdspConfigError(
            f"{name} is a naive datetime; give it a time zone, e.g. datetime(..., tzinfo=timezone.utc)",
            field=name,
        )
    return value.astimezone(timezone.utc)


def format_time(value: TimeValue, *, name: str = "time") -> str:
    """Render a time as UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (1 ms precision, §4).

    Microseconds are truncated, not rounded, as ``Date.toISOString()`` does, so a rendered bound
    never moves past the instant it was given.

    :param value: an aware datetime or an ISO 8601 string with an offset.
    :param name: the parameter named in the error message.
    :raises MdspConfigError: the value is naive, not a time, or not ISO 8601.
    """
    utc = to_datetime(value, name=name)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_optional(value: TimeValue | None, *, name: str) -> str | None:
    """Render a time like :func:`format_time`, passing ``None`` through (an omitted parameter)."""
    return None if value is None else format_time(value, name=name)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def shift(value: TimeValue, *, seconds: float, name: str = "time") -> str:
    """Render ``value`` moved by ``seconds`` (may be negative), in the API format."""
    return format_time(to_datetime(value, name=name) + timedelta(seconds=seconds), name=name)
