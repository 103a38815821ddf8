"""Resolve the aggregation window of IoT TS Aggregates v4 (§5): pure functions, no state.

Rules (N:sdk/iotaggregate-v4): ``intervalValue`` per unit is minute 2–60 (even), hour 1–24,
day 1–90, week 1–12, month 1–3; the range may be at most 24 h for minutes, 7 d for hours and
90 d for days/weeks/months; no parameters mean DAY/1 over the last 7 days; ``from`` alone gives
90 days from its date capped at now, ``to`` alone starts 90 days earlier, an interval and
``count`` complete the missing bound; a range completed so is held to the same longest range as
an explicit one (a ``from`` alone with hours, 30 days ago, is refused, not cut to 7 days);
unaligned bounds are widened to interval boundaries; ``count`` with ``from`` and ``to``
determines the interval.

Gap choices: boundaries are aligned in UTC (the tenant time zone is taken as UTC); weeks start
on Monday; months count from January of year 0 in steps of ``intervalValue``; an interval unit
without ``from`` and ``to`` spans the last 7 days (as no parameters do); a ``from`` in the future
alone gets one interval; with a range but no interval, ranges
up to one day use HOUR/1 and longer ones DAY/1; the month range cap is 92 days (3 months); a
range that, widened to interval boundaries, leaves the years 1 to 9999 is refused with 400
``invalidParameter`` (the reference names no bound; such a ``starttime`` or ``endtime`` has no
four-digit ISO 8601 year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, datetime, timezone

from ...errors import INVALID_PARAMETER, MISSING_PARAMETER, ApiError
from ...timefmt import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE

UNIT_MS = {"minute": MS_PER_MINUTE, "hour": MS_PER_HOUR, "day": MS_PER_DAY, "week": 7 * MS_PER_DAY}
VALUE_RANGE = {"minute": (2, 60), "hour": (1, 24), "day": (1, 90), "week": (1, 12), "month": (1, 3)}
MAX_RANGE_MS = {
    "minute": MS_PER_DAY,
    "hour": 7 * MS_PER_DAY,
    "day": 90 * MS_PER_DAY,
    "week": 90 * MS_PER_DAY,
    "month": 92 * MS_PER_DAY,
}
DEFAULT_SPAN_MS = 90 * MS_PER_DAY
NO_PARAMS_SPAN_MS = 7 * MS_PER_DAY
_MONDAY_MS = 4 * MS_PER_DAY  # 1970-01-05, the first Monday after the epoch
_FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_END_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z


@dataclass(frozen=True)
class Window:
    """A resolved aggregation request: ``[start, end)`` cut into intervals.

    :param start: first interval start (epoch ms, aligned)
    :param end: last interval end (epoch ms, aligned)
    :param unit: interval unit
    :param value: interval value
    :param count: maximum number of intervals to return, if given
    """

    start: int
    end: int
    unit: str
    value: int
    count: int | None = None


def _bad(message: str) -> ApiError:
    return ApiError(400, message, INVALID_PARAMETER)


def resolve(
    now: int,
    lo: int | None,
    hi: int | None,
    unit: str | None,
    value: int | None,
    count: int | None,
) -> Window:
    """Apply the v4 defaulting and validation rules.

    :param now: wall time, epoch ms
    :param lo: ``from``
    :param hi: ``to``
    :param unit: ``intervalUnit``
    :param value: ``intervalValue``
    :param count: ``count``
    :raises ApiError: 400 ``mdsp.core.generic.invalidParameter`` for invalid combinations
    """
    if value is not None and unit is None:
        raise ApiError(400, "intervalUnit is required with intervalValue", MISSING_PARAMETER)
    _check_years(*(t for t in (lo, hi) if t is not None))
    if count is not None and count < 1:
        raise _bad("count must be >= 1")
    if unit is None and count is not None and lo is not None and hi is not None:
        unit, value = _interval_from_count(hi - lo, count)
    if unit is None:
        if lo is None and hi is None and count is None:
            return _aligned(now - NO_PARAMS_SPAN_MS, now, "day", 1, None)
        span = (hi if hi is not None else now) - (lo if lo is not None else now - DEFAULT_SPAN_MS)
        unit, value = ("hour", 1) if span <= MS_PER_DAY else ("day", 1)
    unit = unit.lower()
    if unit not in VALUE_RANGE:
        raise _bad(f"intervalUnit must be one of {sorted(VALUE_RANGE)}, got {unit!r}")
    value = value if value is not None else VALUE_RANGE[unit][0]
    low, high = VALUE_RANGE[unit]
    if not low <= value <= high or (unit == "minute" and value % 2):
        even = " and even" if unit == "minute" else ""
        raise _bad(f"intervalValue for {unit} must be {low}..{high}{even}, got {value}")
    given = lo is not None, hi is not None
    lo, hi = _default_bounds(now, lo, hi, unit, value, count)
    if hi <= lo:
        raise _bad("'to' must be after 'from'")
    if hi - lo > MAX_RANGE_MS[unit]:
        raise _range_exceeded(unit, given)
    return _aligned(lo, hi, unit, value, count)


def _range_exceeded(unit: str, given: tuple[bool, bool]) -> ApiError:
    """The 400 of a range longer than the unit allows, explicit or completed from defaults."""
    days = MAX_RANGE_MS[unit] / MS_PER_DAY
    message = f"The range from 'from' to 'to' exceeds the maximum of {days:g} days for unit {unit}"
    if not all(given):
        missing = " and ".join(name for name, there in zip(("'from'", "'to'"), given, strict=True) if not there)
        message += f" ({missing} not given, completed as the API documents)"
    return _bad(message)


def _interval_from_count(span: int, count: int) -> tuple[str, int]:
    if span <= 0 or span % count:
        raise _bad("from, to and count do not determine a whole interval")
    step = span // count
    for unit in ("week", "day", "hour", "minute"):
        if step % UNIT_MS[unit] == 0:
            value = step // UNIT_MS[unit]
            low, high = VALUE_RANGE[unit]
            if low <= value <= high and not (unit == "minute" and value % 2):
                return unit, value
    raise _bad("from, to and count do not give a supported interval")


def _default_bounds(
    now: int, lo: int | None, hi: int | None, unit: str, value: int, count: int | None
) -> tuple[int, int]:
    # Completed as N:sdk/iotaggregate-v4 documents, never clipped to the unit's longest range:
    # a completed range that is too long is refused like an explicit one (the caller checks).
    if lo is not None and hi is not None:
        return lo, hi
    if count:
        if lo is not None:
            return lo, _count_bound(lo, unit, value * count, 1)
        anchor = hi if hi is not None else now
        return _count_bound(anchor, unit, value * count, -1), anchor
    if lo is not None:
        # "If only from is provided, to is set such that a 90 day time range results or, in case a
        # larger range would result, to the current time. from is truncated to date-only for this
        # calculation." A from in the future still gets one interval (gap choice).
        day = lo - lo % MS_PER_DAY
        return lo, max(min(day + DEFAULT_SPAN_MS, now), lo + UNIT_MS.get(unit, MS_PER_DAY) * value)
    if hi is not None:
        return hi - DEFAULT_SPAN_MS, hi  # "If only to is provided, from is set such that a 90 day time range results."
    # Gap choice: an interval without from and to spans the last 7 days, as when no parameter is given.
    return now - NO_PARAMS_SPAN_MS, now


def _count_bound(anchor: int, unit: str, units: int, direction: int) -> int:
    """Return the bound ``units`` interval units from ``anchor`` (``direction`` 1 later, -1 earlier).

    Months are whole calendar months from the month boundary at or beyond ``anchor``.
    """
    if unit != "month":
        return anchor + direction * UNIT_MS[unit] * units
    if units * 28 * MS_PER_DAY > MAX_RANGE_MS[unit]:
        return anchor + direction * units * 28 * MS_PER_DAY  # too long whatever the months
    edge = floor_boundary(anchor, unit, 1) if direction > 0 else ceil_boundary(anchor, unit, 1)
    return _month_start(_month_index(edge) + direction * units)


def _aligned(lo: int, hi: int, unit: str, value: int, count: int | None) -> Window:
    _check_years(lo, hi)
    window = Window(floor_boundary(lo, unit, value), ceil_boundary(hi, unit, value), unit, value, count)
    _check_years(window.start, window.end)
    return window


def _check_years(*times: int) -> None:
    # Gap choice: every starttime and endtime must be writable with a four-digit year (ISO 8601),
    # so the range, once widened to interval boundaries, lies within the years 1 to 9999.
    if not all(_FIRST_MS <= t < _END_MS for t in times):
        raise _outside_years()


def _outside_years() -> ApiError:
    return _bad("The range widened to interval boundaries must lie within the years 1 to 9999")


def floor_boundary(t: int, unit: str, value: int) -> int:
    """Return the interval boundary at or before ``t``.

    :param t: epoch ms
    :param unit: interval unit
    :param value: interval value
    """
    if unit == "month":
        index = _month_index(t)
        return _month_start(index - index % value)
    step = UNIT_MS[unit] * value
    offset = _MONDAY_MS if unit == "week" else 0
    return t - (t - offset) % step


def ceil_boundary(t: int, unit: str, value: int) -> int:
    """Return the interval boundary at or after ``t``.

    :param t: epoch ms
    :param unit: interval unit
    :param value: interval value
    """
    start = floor_boundary(t, unit, value)
    return start if start == t else next_boundary(start, unit, value)


def next_boundary(t: int, unit: str, value: int) -> int:
    """Return the boundary one interval after the boundary ``t``.

    :param t: an aligned boundary, epoch ms
    :param unit: interval unit
    :param value: interval value
    """
    if unit == "month":
        return _month_start(_month_index(t) + value)
    return t + UNIT_MS[unit] * value


def _month_index(t: int) -> int:
    d = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> int:
    year, month = divmod(index, 12)
    if not MINYEAR <= year <= MAXYEAR:  # 10000-01-01 cannot be an endtime either
        raise _outside_years()
    return int(datetime(year, month + 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
