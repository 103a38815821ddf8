"""Parse and format the ISO 8601 UTC timestamps used on the wire, as integer epoch milliseconds.

Every model keeps time as ``int`` milliseconds since the epoch (the APIs have 1 ms precision,
insights-hub-api.md §4), so comparisons and paging arithmetic never touch ``datetime``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

MS_PER_SECOND = 1000
MS_PER_MINUTE = 60 * MS_PER_SECOND
MS_PER_HOUR = 60 * MS_PER_MINUTE
MS_PER_DAY = 24 * MS_PER_HOUR

# Formatting a date prefix is the slow part; a time-series page touches only a day or two.
_DAY_PREFIX: dict[int, str] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


class TimeFormatError(ValueError):
    """Raised when a timestamp string is not ISO 8601."""


def now_ms() -> int:
    """Return the current wall time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def format_ms(ms: int) -> str:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

    :param ms: epoch milliseconds (UTC)
    """
    day, rest = divmod(ms, MS_PER_DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        if len(_DAY_PREFIX) > 4096:
            _DAY_PREFIX.clear()
        _DAY_PREFIX[day] = prefix
    sec, milli = divmod(rest, 1000)
    hour, sec = divmod(sec, 3600)
    minute, sec = divmod(sec, 60)
    return f"{prefix}{hour:02d}:{minute:02d}:{sec:02d}.{milli:03d}Z"


def format_many_ms(times: Sequence[int]) -> list[str]:
    """Format many epoch-millisecond timestamps (sorted runs are fastest: one prefix per minute).

    :param times: epoch milliseconds (UTC)
    """
    out: list[str] = []
    append = out.append
    minute, prefix = None, ""
    for t in times:
        m = t // MS_PER_MINUTE
        if m != minute:
            minute, prefix = m, format_ms(m * MS_PER_MINUTE)[:17]  # "YYYY-MM-DDTHH:MM:"
        rest = t - m * MS_PER_MINUTE
        append(f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}Z")
    return out


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 timestamp into epoch milliseconds; naive values are taken as UTC.

    Digits finer than 1 ms are dropped; :func:`parse_iso_sub_ms` tells whether there were any.

    :param text: for example ``2024-05-01T00:00:00.000Z`` or ``2024-05-01T02:00:00+02:00``
    :raises TimeFormatError: when the text is not a timestamp
    """
    return parse_iso_sub_ms(text)[0]


def parse_iso_sub_ms(text: str) -> tuple[int, bool]:
    """Parse an ISO 8601 timestamp as :func:`parse_iso` does, and tell whether it is finer than 1 ms.

    :param text: for example ``2024-05-01T00:00:00.000300Z``
    :returns: ``(epoch ms, sub_ms)``; ``sub_ms`` is true when a fraction digit after the third is
        not zero (``.000300`` is, ``.123000`` is not)
    :raises TimeFormatError: when the text is not a timestamp
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    # datetime.fromisoformat in 3.10 accepts only 3 or 6 fraction digits; normalise to 6.
    raw, sub_ms = _normalise_fraction(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise TimeFormatError(f"not an ISO 8601 timestamp: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return (parsed - _EPOCH) // _ONE_MS, sub_ms


def _normalise_fraction(raw: str) -> tuple[str, bool]:
    dot = raw.find(".", 10)
    if dot < 0:
        return raw, False
    end = dot + 1
    while end < len(raw) and raw[end].isdigit():
        end += 1
    fraction = raw[dot + 1 : end]
    digits = fraction[:6].ljust(6, "0")
    return f"{raw[:dot]}.{digits}{raw[end:]}", fraction[3:].strip("0") != ""
