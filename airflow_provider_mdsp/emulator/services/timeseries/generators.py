"""Generated time series: each value is a pure function of (signal seed, variable, timestamp).

Nothing is stored: a generator describes a property set sampled every ``step_ms`` over the last
``span_ms`` up to now (aligned to the step), and computes any record on read. Values are a daily
sine cycle plus deterministic hash noise, rounded to 3 decimals; a signal may carry a daily
"overheat" window where it sits at a fixed high level (used by the demo pump that crosses
80 °C at known times).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...timefmt import MS_PER_DAY, format_many_ms

_TWO_PI_PER_MS = 2.0 * math.pi / MS_PER_DAY
_MASK = 0xFFFFFFFF
_GOOD_QC = 192  # OPC UA "good"
_UNCERTAIN_QC = 64  # OPC UA "uncertain"
_UNCERTAIN_EVERY = 500  # about one record in 500 carries an uncertain quality code


def _hash01(t: int, seed: int) -> float:
    """Return a deterministic value in [0, 1) for a timestamp and seed (32-bit mix)."""
    x = (t * 0x9E3779B1 + seed) & _MASK
    x ^= x >> 15
    x = (x * 0x85EBCA6B) & _MASK
    x ^= x >> 13
    return x / 4294967296.0


@dataclass(frozen=True)
class Signal:
    """How one variable's values are generated.

    :param name: variable name
    :param base: mean value
    :param amplitude: amplitude of the daily (UTC) sine cycle
    :param noise: peak-to-peak noise
    :param phase: phase of the daily cycle in radians
    :param seed: noise seed
    :param quality_code: emit ``<name>_qc``
    :param overheat: ``(start_s, end_s, level)``: seconds of the UTC day in which the value is
        ``level`` plus noise instead of the cycle
    """

    name: str
    base: float
    amplitude: float
    noise: float
    phase: float
    seed: int
    quality_code: bool = False
    overheat: tuple[int, int, float] | None = None

    def value(self, t: int) -> float:
        """Return the value at ``t`` (epoch ms), rounded to 3 decimals.

        :param t: epoch milliseconds
        """
        return round(self._raw(t), 3)

    def _raw(self, t: int) -> float:
        noise = self.noise * (_hash01(t, self.seed) - 0.5)
        if self.overheat is not None:
            start, end, level = self.overheat
            if start <= (t % MS_PER_DAY) // 1000 < end:
                return level + noise
        return self.base + self.amplitude * math.sin(t * _TWO_PI_PER_MS + self.phase) + noise

    def values_range(self, start: int, stop: int, step: int) -> list[float]:
        """Return ``[value(t) for t in range(start, stop, step)]``, computed in one tight loop.

        :param start: first timestamp, epoch ms
        :param stop: end (exclusive)
        :param step: step in ms
        """
        return [round(v, 3) for v in self.raw_many(range(start, stop, step))]

    def raw_many(self, times: Sequence[int]) -> list[float]:
        """Return the unrounded values at many timestamps (one tight loop: the hot path).

        :param times: epoch milliseconds
        """
        if self.overheat is not None:
            return [self._raw(t) for t in times]
        base, amplitude, noise, phase, seed = self.base, self.amplitude, self.noise, self.phase, self.seed
        sin, k = math.sin, _TWO_PI_PER_MS
        out: list[float] = []
        append = out.append
        for t in times:
            x = (t * 0x9E3779B1 + seed) & _MASK
            x ^= x >> 15
            x = (x * 0x85EBCA6B) & _MASK
            x ^= x >> 13
            append(base + amplitude * sin(t * k + phase) + noise * (x / 4294967296.0 - 0.5))
        return out

    def quality(self, t: int) -> int:
        """Return the OPC UA quality code at ``t``.

        :param t: epoch milliseconds
        """
        x = (t * 0x85EBCA6B + self.seed * 31 + 7) & _MASK
        x ^= x >> 16
        return _UNCERTAIN_QC if x % _UNCERTAIN_EVERY == 0 else _GOOD_QC


@dataclass(frozen=True)
class SeriesGenerator:
    """A generated property set.

    :param step_ms: sampling interval
    :param span_ms: how far back from now data exists
    :param signals: one signal per variable
    """

    step_ms: int
    span_ms: int
    signals: tuple[Signal, ...]

    def window(self, now: int) -> tuple[int, int]:
        """Return the first and last generated timestamps (inclusive) at wall time ``now``.

        :param now: epoch milliseconds
        """
        last = now - now % self.step_ms
        return last - self.span_ms, last

    def record(self, t: int, names: tuple[str, ...] | None = None) -> dict[str, float | int]:
        """Return the values at ``t`` as a dict (``<name>_qc`` included where enabled).

        :param t: epoch milliseconds
        :param names: only these variables (``None``: all)
        """
        out: dict[str, float | int] = {}
        for s in self.signals:
            if names is None or s.name in names:
                out[s.name] = s.value(t)
                if s.quality_code:
                    out[s.name + "_qc"] = s.quality(t)
        return out

    def format_many(self, times: Sequence[int], names: tuple[str, ...] | None = None) -> list[str]:
        """Return the records at ``times`` as JSON object texts (the time-series hot path).

        Computed column by column; values are formatted with ``%.3f``, which prints the same
        number as ``round(v, 3)``.

        :param times: epoch milliseconds
        :param names: only these variables (``None``: all)
        """
        chosen = [s for s in self.signals if names is None or s.name in names]
        parts = ['{"_time":"%s"']
        columns: list[list[Any]] = [format_many_ms(times)]
        for s in chosen:
            parts.append(f',"{s.name}":%.3f')
            columns.append(s.raw_many(times))
            if s.quality_code:
                parts.append(f',"{s.name}_qc":%d')
                columns.append([s.quality(t) for t in times])
        template = "".join(parts) + "}"
        return [template % row for row in zip(*columns, strict=True)]
