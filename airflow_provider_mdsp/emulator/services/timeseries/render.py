"""Time-series wire helpers shared by Time Series and TS Bulk reads: ``select``, JSON records."""

from __future__ import annotations

import json

from starlette.requests import Request

from ...timefmt import format_ms
from .models import TimeSeriesBackend
from .store import Hit


def render_records(ts: TimeSeriesBackend, entity: str, ps: str, hits: list[Hit], names: tuple[str, ...] | None) -> str:
    """Serialise scan hits as a JSON array of records.

    :param ts: the model
    :param entity: asset id
    :param ps: property set name
    :param hits: scan hits
    :param names: selected variables (``None``: all)
    """
    gen = ts.generator(entity, ps)
    parts: list[str] = []
    run: list[int] = []  # consecutive generated timestamps, formatted in one batch
    for hit in hits:
        if hit[1] is None and gen is not None:
            run.append(hit[0])
            continue
        if run and gen is not None:
            parts += gen.format_many(run, names)
            run = []
        record = {"_time": format_ms(hit[0])}
        record.update(ts.values(entity, ps, hit, names))
        parts.append(json.dumps(record, separators=(",", ":")))
    if run and gen is not None:
        parts += gen.format_many(run, names)
    return "[" + ",".join(parts) + "]"


def parse_select(request: Request) -> list[str] | None:
    """Read ``select`` (comma separated variable names).

    :param request: the request
    """
    raw = request.query_params.get("select")
    if not raw:
        return None
    return [s.strip() for s in raw.split(",") if s.strip()] or None
