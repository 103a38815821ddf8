"""Written records and deleted ranges of one (entity, property set), merged with generated data.

Written records overlay generated ones (a write at a generated timestamp replaces it). A DELETE
removes written records in the range and remembers the range, so generated data there is gone
too; a later write into a deleted range is visible again.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from .generators import SeriesGenerator

# Unbounded range ends (epoch ms); far outside any real data.
MIN_TIME = -(2**62)
MAX_TIME = 2**62

Record = dict[str, Any]
# One scan hit: (timestamp, written record) or (timestamp, None) for a generated record.
Hit = tuple[int, "Record | None"]


class SeriesData:
    """State of one property set of one entity: written records and deleted ranges."""

    def __init__(self) -> None:
        self.times: list[int] = []
        self.records: dict[int, Record] = {}
        # Sorted, non-overlapping (from exclusive, to inclusive) ranges.
        self.deleted: list[tuple[int, int]] = []
        self._his: list[int] = []

    def write(self, records: dict[int, Record]) -> None:
        """Store records, replacing whole records at the same timestamps.

        :param records: timestamp -> values (without ``_time``)
        """
        new = [t for t in records if t not in self.records]
        self.records.update(records)
        if new:
            if self.times and min(new) <= self.times[-1]:
                self.times = sorted(self.times + new)
            else:
                self.times.extend(sorted(new))

    def delete(self, lo: int, hi: int) -> int:
        """Delete written records in ``(lo, hi]`` and hide generated ones there.

        :param lo: exclusive start (epoch ms)
        :param hi: inclusive end (epoch ms)
        :return: number of written records removed
        """
        i, j = bisect_right(self.times, lo), bisect_right(self.times, hi)
        for t in self.times[i:j]:
            del self.records[t]
        del self.times[i:j]
        self.deleted = _merge_ranges([*self.deleted, (lo, hi)])
        self._his = [r[1] for r in self.deleted]
        return j - i

    def next_visible(self, t: int, step: int) -> int:
        """Return the first generated timestamp ``>= t`` (on the step grid) not deleted.

        :param t: a grid timestamp
        :param step: the grid step
        """
        k = bisect_left(self._his, t)  # first range that ends at or after t
        while k < len(self.deleted):
            lo, hi = self.deleted[k]
            if lo >= t:
                break
            t = hi - hi % step + step
            k += 1
        return t

    def prev_visible(self, t: int, step: int) -> int:
        """Return the last generated timestamp ``<= t`` (on the step grid) not deleted.

        :param t: a grid timestamp
        :param step: the grid step
        """
        k = bisect_left(self._his, t)
        while 0 <= k < len(self.deleted):
            lo, hi = self.deleted[k]
            if not lo < t <= hi:
                break
            t = lo - lo % step
            k -= 1
        return t


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def scan(
    data: SeriesData,
    gen: SeriesGenerator | None,
    now: int,
    lo: int,
    hi: int,
    limit: int,
    descending: bool = False,
) -> list[Hit]:
    """Return up to ``limit`` records in ``(lo, hi]``, written ones winning over generated ones.

    :param data: written records and deletions
    :param gen: the generator of this property set, if any
    :param now: wall time, which bounds generated data
    :param lo: exclusive start (epoch ms)
    :param hi: inclusive end (epoch ms)
    :param limit: maximum number of hits
    :param descending: newest first
    """
    if descending:
        return _scan_desc(data, gen, now, lo, hi, limit)
    times, records = data.times, data.records
    i, end = bisect_right(times, lo), bisect_right(times, hi)
    step, g, g_end = 0, MAX_TIME, MIN_TIME
    if gen is not None:
        step = gen.step_ms
        first, last = gen.window(now)
        g = max(first, lo - lo % step + step)
        g_end = min(last, hi)
        g = data.next_visible(g, step) if data.deleted else g
    out: list[Hit] = []
    deleted = bool(data.deleted)
    while len(out) < limit:
        s = times[i] if i < end else MAX_TIME
        gt = g if g <= g_end else MAX_TIME
        if s == MAX_TIME and gt == MAX_TIME:
            break
        if s <= gt:
            out.append((s, records[s]))
            i += 1
            if gt != s:
                continue
        else:
            out.append((gt, None))
        g += step
        if deleted:
            g = data.next_visible(g, step)
    return out


def _scan_desc(data: SeriesData, gen: SeriesGenerator | None, now: int, lo: int, hi: int, limit: int) -> list[Hit]:
    times, records = data.times, data.records
    start, i = bisect_right(times, lo), bisect_right(times, hi) - 1
    step, g, g_end = 0, MIN_TIME, MAX_TIME
    if gen is not None:
        step = gen.step_ms
        first, last = gen.window(now)
        g = min(last, hi - hi % step)
        g_end = max(first, lo + 1)
        g = data.prev_visible(g, step) if data.deleted else g
    out: list[Hit] = []
    deleted = bool(data.deleted)
    while len(out) < limit:
        s = times[i] if i >= start else MIN_TIME
        gt = g if g >= g_end else MIN_TIME
        if s == MIN_TIME and gt == MIN_TIME:
            break
        if s >= gt:
            out.append((s, records[s]))
            i -= 1
            if gt != s:
                continue
        else:
            out.append((gt, None))
        g -= step
        if deleted:
            g = data.prev_visible(g, step)
    return out
