"""IoT TS Aggregates v4 (§5): aggregates computed from stored and generated time series.

Intervals are ``[starttime, endtime)``. Hour-aligned intervals (hour, day, week, month) are
built from per-hour partial aggregates; an hour that holds only generated data is cached, so a
repeated day aggregate over the 1 s benchmark asset is fast after the first call (which takes
a few seconds). Quality codes (OPC UA) split the counts: >= 192 good, 64..191 uncertain,
< 64 bad; bad values are counted but left out of the statistics. ``sd`` is the population
standard deviation. Only numeric variables (DOUBLE, INT, LONG) are aggregated.

Not emulated: legacy v3 aggregates, pre-calculated aggregate latency, tenant time zones.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from ...errors import ApiError
from ...timefmt import MS_PER_HOUR, format_ms, now_ms
from ..timeseries.models import TimeSeriesBackend
from .window import Window, next_boundary

NUMERIC = ("DOUBLE", "INT", "LONG")
FIELDS = (
    "countgood", "countuncertain", "countbad", "sum", "average", "mintime", "minvalue",
    "maxtime", "maxvalue", "firsttime", "firstvalue", "lasttime", "lastvalue", "sd",
)  # fmt: skip
_CACHE_LIMIT = 100_000
Selection = dict[str, "set[str] | None"]


class Acc:
    """Running aggregate of one variable over one interval."""

    __slots__ = ("bad", "first", "good", "last", "max", "min", "n", "sumsq", "total", "uncertain")

    def __init__(self) -> None:
        self.good = self.uncertain = self.bad = self.n = 0
        self.total = self.sumsq = 0.0
        self.min: tuple[float, int] | None = None
        self.max: tuple[float, int] | None = None
        self.first: tuple[int, float] | None = None
        self.last: tuple[int, float] | None = None

    def add(self, t: int, value: float, qc: int | None) -> None:
        """Add one value (in time order).

        :param t: epoch ms
        :param value: the value
        :param qc: OPC UA quality code, ``None`` = good
        """
        if qc is not None and qc < 64:
            self.bad += 1
            return
        if qc is None or qc >= 192:
            self.good += 1
        else:
            self.uncertain += 1
        self.n += 1
        self.total += value
        self.sumsq += value * value
        if self.min is None or value < self.min[0]:
            self.min = (value, t)
        if self.max is None or value > self.max[0]:
            self.max = (value, t)
        if self.first is None:
            self.first = (t, value)
        self.last = (t, value)

    def add_all_good(self, start: int, step: int, values: list[float]) -> None:
        """Add evenly spaced good values at once (fast path for generated data).

        :param start: time of ``values[0]``
        :param step: spacing in ms
        :param values: the values
        """
        if not values:
            return
        low, high = min(values), max(values)
        self.good += len(values)
        self.n += len(values)
        self.total += math.fsum(values)
        self.sumsq += math.fsum(v * v for v in values)
        self.min = (low, start + values.index(low) * step)
        self.max = (high, start + values.index(high) * step)
        self.first = (start, values[0])
        self.last = (start + (len(values) - 1) * step, values[-1])

    def merge(self, later: Acc) -> None:
        """Fold in the aggregate of a later, adjacent interval.

        :param later: the later interval's aggregate
        """
        self.good += later.good
        self.uncertain += later.uncertain
        self.bad += later.bad
        self.n += later.n
        self.total += later.total
        self.sumsq += later.sumsq
        if later.min is not None and (self.min is None or later.min[0] < self.min[0]):
            self.min = later.min
        if later.max is not None and (self.max is None or later.max[0] > self.max[0]):
            self.max = later.max
        self.first = self.first or later.first
        self.last = later.last or self.last

    def to_dict(self, fields: set[str] | None) -> dict[str, Any]:
        """Return the wire form (``fields`` limits it, as ``select=v.sum`` does).

        :param fields: field names to keep, ``None`` = all
        """
        mean = self.total / self.n if self.n else None
        var = max(self.sumsq / self.n - mean * mean, 0.0) if mean is not None else None
        out = {
            "countgood": self.good,
            "countuncertain": self.uncertain,
            "countbad": self.bad,
            "sum": self.total,
            "average": mean,
            "mintime": format_ms(self.min[1]) if self.min else None,
            "minvalue": self.min[0] if self.min else None,
            "maxtime": format_ms(self.max[1]) if self.max else None,
            "maxvalue": self.max[0] if self.max else None,
            "firsttime": format_ms(self.first[0]) if self.first else None,
            "firstvalue": self.first[1] if self.first else None,
            "lasttime": format_ms(self.last[0]) if self.last else None,
            "lastvalue": self.last[1] if self.last else None,
            "sd": math.sqrt(var) if var is not None else None,
        }
        return out if fields is None else {k: v for k, v in out.items() if k in fields}

    @property
    def empty(self) -> bool:
        """Whether no value (of any quality) was added."""
        return self.good + self.uncertain + self.bad == 0


def parse_select(raw: str | None, numeric: list[str], aspect: str) -> Selection:
    """Parse ``select`` (``v1,v2`` or ``v1.sum``) into ``{variable: fields or None}``.

    :param raw: the parameter
    :param numeric: numeric variables of the aspect
    :param aspect: aspect name, for messages
    :raises ApiError: 400 for an unknown variable or field
    """
    if not raw:
        return {name: None for name in numeric}
    out: Selection = {}
    for item in (s.strip() for s in raw.split(",") if s.strip()):
        name, _, field = item.partition(".")
        if name not in numeric:
            raise ApiError(400, f"select: '{name}' is not a numeric variable of aspect {aspect}")
        if field and field not in FIELDS:
            raise ApiError(400, f"select: unknown aggregate field '{field}'")
        if field:
            current = out.get(name, set())
            out[name] = None if current is None else {*current, field}
        else:
            out[name] = None
    return out


class AggregateBackend:
    """Aggregates over one tenant's time series.

    :param ts: the tenant's time-series model
    :param clock: epoch-ms clock
    """

    def __init__(self, ts: TimeSeriesBackend, clock: Callable[[], int] = now_ms) -> None:
        self.ts = ts
        self._clock = clock
        self._cache: dict[tuple[str, str, str, int], Acc] = {}

    def numeric_variables(self, entity: str, aspect: str) -> list[str]:
        """Return the aggregatable variables of an aspect.

        :param entity: asset id
        :param aspect: aspect name
        """
        return [n for n, v in self.ts.schema(entity, aspect).items() if v["dataType"] in NUMERIC]

    def aggregate(self, entity: str, aspect: str, window: Window, select: Selection) -> list[dict[str, Any]]:
        """Return the non-empty intervals of ``window``.

        :param entity: asset id
        :param aspect: aspect name
        :param window: resolved window
        :param select: variables and fields
        """
        bounds: list[tuple[int, int]] = []
        start = window.start
        while start < window.end and (window.count is None or len(bounds) < window.count):
            end = next_boundary(start, window.unit, window.value)
            bounds.append((start, end))
            start = end
        names = list(select)
        if window.unit == "minute":
            accs = self._direct(entity, aspect, bounds, names)
        else:
            accs = [self._hours(entity, aspect, s, e, names) for s, e in bounds]
        out = []
        for (s, e), per_var in zip(bounds, accs, strict=True):
            if all(a.empty for a in per_var.values()):
                continue
            item: dict[str, Any] = {"starttime": format_ms(s), "endtime": format_ms(e)}
            for name in names:
                item[name] = per_var[name].to_dict(select[name])
            out.append(item)
        return out

    def _direct(
        self, entity: str, aspect: str, bounds: list[tuple[int, int]], names: list[str]
    ) -> list[dict[str, Acc]]:
        accs = [{n: Acc() for n in names} for _ in bounds]
        starts = [s for s, _ in bounds]
        if not bounds:
            return accs
        for t, values in self.ts.iter_values(entity, aspect, bounds[0][0] - 1, bounds[-1][1] - 1):
            per_var = accs[bisect_left(starts, t + 1) - 1]
            for n in names:
                v = values.get(n)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    per_var[n].add(t, v, values.get(n + "_qc"))
        return accs

    def _hours(self, entity: str, aspect: str, start: int, end: int, names: list[str]) -> dict[str, Acc]:
        total = {n: Acc() for n in names}
        for hour in range(start, end, MS_PER_HOUR):
            for n, acc in self._hour(entity, aspect, hour, names).items():
                total[n].merge(acc)
        return total

    def _hour(self, entity: str, aspect: str, hour: int, names: list[str]) -> dict[str, Acc]:
        gen = self.ts.generator(entity, aspect)
        data = self.ts.data(entity, aspect)
        end = hour + MS_PER_HOUR
        written = bisect_left(data.times, end) > bisect_left(data.times, hour)
        touched = written or any(lo < end - 1 and hi >= hour for lo, hi in data.deleted)
        if gen is None and not written:
            return {}
        if gen is not None and not touched:
            first, last = gen.window(self._clock())
            if last < hour or first >= end:
                return {}
            if first <= hour and end - gen.step_ms <= last:
                return {n: self._generated_hour(entity, aspect, hour, n) for n in names}
        return self._direct(entity, aspect, [(hour, end)], names)[0]

    def _generated_hour(self, entity: str, aspect: str, hour: int, name: str) -> Acc:
        key = (entity, aspect, name, hour)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        gen = self.ts.generator(entity, aspect)
        assert gen is not None
        signal = next(s for s in gen.signals if s.name == name)
        acc = Acc()
        values = signal.values_range(hour, hour + MS_PER_HOUR, gen.step_ms)
        if signal.quality_code:
            for i, v in enumerate(values):
                t = hour + i * gen.step_ms
                acc.add(t, v, signal.quality(t))
        else:
            acc.add_all_good(hour, gen.step_ms, values)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = acc
        return acc
