"""IoT Time Series Aggregates v4: pre-calculated min/max/avg/sum per interval (Node SDK ``sdk/iotaggregate-v4``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.paths import csv
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import TimeValue, format_time, to_datetime, utcnow

PATH = "/api/iottsaggregates/v4/aggregates"

#: Allowed ``intervalValue`` per ``intervalUnit``, inclusive (Node SDK ``sdk/iotaggregate-v4``).
INTERVAL_LIMITS: dict[str, tuple[int, int]] = {
    "minute": (2, 60),
    "hour": (1, 24),
    "day": (1, 90),
    "week": (1, 12),
    "month": (1, 3),
}
#: Longest ``from``..``to`` range per unit (Node SDK ``sdk/iotaggregate-v4``): 90 days for
#: day/week/month, 7 days for hours, 24 hours for minutes.
MAX_RANGE: dict[str, timedelta] = {
    "minute": timedelta(hours=24),
    "hour": timedelta(days=7),
    "day": timedelta(days=90),
    "week": timedelta(days=90),
    "month": timedelta(days=90),
}
_UNITS = "|".join(INTERVAL_LIMITS)


def validate_aggregate_request(
    *,
    from_: TimeValue | None,
    to: TimeValue | None,
    interval_value: int | str | None,
    interval_unit: str | None,
    count: int | None = None,
) -> None:
    """Check an aggregates request against the service's rules before sending it (Node SDK ``sdk/iotaggregate-v4``).

    Units are minute|hour|day|week|month; values minute 2–60 (even), hour 1–24, day 1–90,
    week 1–12, month 1–3; the range may span 24 h for minutes, 7 days for hours and 90 days
    otherwise, and ``to`` must be after ``from_``. All parameters may be omitted (the service then
    picks day/1 over the last 7 days), but value and unit go together. With an interval and
    ``count`` one bound is enough: the service spans ``count`` intervals from it
    (Node SDK ``sdk/iotaggregate-v4`` docstrings); that span must fit the unit's longest range.
    Without ``count``, ``from_`` alone spans up to now (90 days at most), so it serves every unit
    whose longest range still holds it, e.g. hours since yesterday; ``to`` alone spans 90 days back.

    :param from_: start of the range, or ``None``.
    :param to: end of the range, or ``None``.
    :param interval_value: number of units per interval.
    :param interval_unit: ``minute``, ``hour``, ``day``, ``week`` or ``month``.
    :param count: number of intervals.
    :raises MdspConfigError: naming the parameter at fault and the allowed values.
    """
    unit = _check_unit(interval_unit)
    value = _check_value(interval_value, unit)
    if (unit is None) != (value is None):
        missing = "interval_unit" if unit is None else "interval_value"
        raise MdspConfigError(
            f"{missing} is required when {'interval_value' if unit is None else 'interval_unit'} is given "
            f"(units: {_UNITS})",
            field=missing,
        )
    start = to_datetime(from_, name="from_") if from_ is not None else None
    end = to_datetime(to, name="to") if to is not None else None
    if start is not None and end is not None and end <= start:
        raise MdspConfigError(f"to ({format_time(end)}) must be after from_ ({format_time(start)})", field="to")
    if count is not None and (isinstance(count, bool) or not str(count).strip().isdigit() or int(count) < 1):
        raise MdspConfigError(f"count must be a whole number of at least 1, got {count!r}", field="count")
    if unit is None:
        return
    if start is None or end is None:
        if count is not None and value is not None:
            _check_count_span(unit, value, int(count))
            return
        if end is None and start is not None and utcnow() - start <= MAX_RANGE[unit]:
            return  # the service's range runs from from_ to now
        if MAX_RANGE[unit] < timedelta(days=90):
            # One bound alone makes the service use a 90-day range, too long for this unit.
            raise MdspConfigError(
                f"With interval_unit={unit!r} give both from_ and to (at most {_span(MAX_RANGE[unit])} apart), "
                f"one of them and count, or a from_ within {_span(MAX_RANGE[unit])} of now",
                field="to" if end is None else "from_",
            )
        return
    if end - start > MAX_RANGE[unit]:
        raise MdspConfigError(
            f"The range from_..to spans {_span(end - start)}; with interval_unit={unit!r} it may span at most "
            f"{_span(MAX_RANGE[unit])}. Shorten it or use a larger unit",
            field="to",
        )


def _check_count_span(unit: str, value: int, count: int) -> None:
    length = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
    length["week"] = timedelta(weeks=1)
    length["month"] = timedelta(days=28)  # the shortest month: a lower bound of the span
    span = length[unit] * value * count
    if span > MAX_RANGE[unit]:
        raise MdspConfigError(
            f"count={count} intervals of {value} {unit} span {_span(span)}; with interval_unit={unit!r} the range "
            f"may span at most {_span(MAX_RANGE[unit])}. Lower count",
            field="count",
        )


def _check_unit(interval_unit: str | None) -> str | None:
    if interval_unit is None:
        return None
    unit = str(interval_unit).strip().lower()
    if unit not in INTERVAL_LIMITS:
        raise MdspConfigError(f"interval_unit must be one of {_UNITS}, got {interval_unit!r}", field="interval_unit")
    return unit


def _check_value(interval_value: int | str | None, unit: str | None) -> int | None:
    if interval_value is None:
        return None
    text = str(interval_value).strip()
    if isinstance(interval_value, bool) or not text.isdigit():
        raise MdspConfigError(f"interval_value must be a whole number, got {interval_value!r}", field="interval_value")
    value = int(text)
    if unit is None:
        return value
    low, high = INTERVAL_LIMITS[unit]
    if not low <= value <= high or (unit == "minute" and value % 2):
        even = " and even" if unit == "minute" else ""
        raise MdspConfigError(
            f"interval_value for unit {unit!r} must be {low}–{high}{even}, got {value}",
            field="interval_value",
        )
    return value


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours <= 48 else f"{hours / 24:g} days"


class AggregatesClient(ApiClient):
    """Read aggregates of an asset's aspect (IoT Time Series Aggregates v4)."""

    def get_aggregates(
        self,
        asset_id: str,
        aspect_name: str,
        *,
        from_: TimeValue | None = None,
        to: TimeValue | None = None,
        interval_value: int | None = None,
        interval_unit: str | None = None,
        select: str | Iterable[str] | None = None,
        count: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return the aggregates of each interval, oldest first; empty intervals are omitted (Node SDK
        ``sdk/iotaggregate-v4``).

        The request is checked with :func:`validate_aggregate_request` before it is sent.

        :param asset_id: the asset id.
        :param aspect_name: the aspect name.
        :param from_: start of the range (widened to an interval boundary by the service).
        :param to: end of the range.
        :param interval_value: number of units per interval.
        :param interval_unit: ``minute``, ``hour``, ``day``, ``week`` or ``month``.
        :param select: variables (``"v1,v2"``) or single aggregates (``"v1.sum"``).
        :param count: number of intervals, when the interval is to be derived.
        :return: ``[{"starttime", "endtime", "<variable>": {"sum", "average", "minvalue", …}}]``.
        """
        validate_aggregate_request(
            from_=from_, to=to, interval_value=interval_value, interval_unit=interval_unit, count=count
        )
        for name, value in (("asset_id", asset_id), ("aspect_name", aspect_name)):
            if not str(value or "").strip():
                raise MdspConfigError(f"{name} must not be empty", field=name)
        params = {
            "assetId": asset_id,
            "aspectName": aspect_name,
            "from": format_time(from_, name="from_") if from_ is not None else None,
            "to": format_time(to, name="to") if to is not None else None,
            "intervalValue": interval_value,
            "intervalUnit": str(interval_unit).strip().lower() if interval_unit is not None else None,
            "select": csv(select),
            "count": count,
        }
        body = self.transport.request_json("GET", PATH, params=params)
        if isinstance(body, list):  # the v3 shape: a bare array (legacy v3, Node SDK ``sdk/iotaggregate``)
            return body
        return list((body or {}).get("aggregates") or [])
