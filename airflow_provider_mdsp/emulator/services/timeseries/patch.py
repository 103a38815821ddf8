"""Time-series PATCH: merge the given variables into existing records, all or nothing (§4).

Rules (§4 PATCH row, from QX; restated in the issue): at most 10 records and 600 KB per request;
every ``_time`` at most 24 hours old and not in the future; no BIG_STRING variables; only the
given variables change, the others of the record stay; if any record fails, none is applied.

Gap: the success status (204 here, like PUT).
"""

from __future__ import annotations

from typing import Any

from ...errors import INVALID_BODY, ApiError
from ...timefmt import MS_PER_DAY, format_ms
from .models import TimeSeriesBackend
from .store import Record

MAX_RECORDS = 10
MAX_BYTES = 600 * 1024
MAX_AGE_MS = MS_PER_DAY


def patch_records(ts: TimeSeriesBackend, entity: str, ps: str, records: Any, now_ms: int) -> int:
    """Validate every record, then merge them all into the stored ones; return the count.

    :param ts: the tenant's time series
    :param entity: asset id
    :param ps: property set name
    :param records: the request body
    :param now_ms: the current time
    :raises ApiError: 400 naming the first problem; nothing is written then
    """
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
        raise ApiError(400, f"A PATCH takes 1 to {MAX_RECORDS} records", INVALID_BODY)
    variables = ts.schema(entity, ps)
    parsed = ts.validate(entity, ps, records)
    for t, values in parsed.items():
        if t > now_ms or t < now_ms - MAX_AGE_MS:
            raise ApiError(400, f"Record at {format_ms(t)} is in the future or older than 24 hours", INVALID_BODY)
        for key in values:
            if variables.get(key, {}).get("dataType") == "BIG_STRING":
                raise ApiError(400, f"Variable {key} is a BIG_STRING, which PATCH does not accept", INVALID_BODY)
    merged: dict[int, Record] = {}
    for t, values in parsed.items():
        hits = ts.read(entity, ps, t - 1, t, 1)
        current = ts.values(entity, ps, hits[0]) if hits and hits[0][0] == t else {}
        merged[t] = {**current, **values}
    ts.data(entity, ps).write(merged)
    return len(merged)
