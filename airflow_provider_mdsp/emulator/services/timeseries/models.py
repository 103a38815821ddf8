"""IoT Time Series v3 rules and state (§4). No HTTP here.

A property set is an aspect of an asset; its variables come from the aspect type. Generated
demo data is computed on read (:mod:`.generators`); written records overlay it (:mod:`.store`).

Timestamps have 1 ms precision (§4; DOC api-iottimeseries-overview: "The timestamp may be
specified with millisecond precision"); only assets of ``twinType`` ``simulation`` take µs
timestamps (§3). A ``_time`` finer than 1 ms written to any other asset is refused with 400
in the Time Series error shape: what the real service answers is not documented (reference,
Node SDK and developer docs are silent), so the 400 is our choice, the strict one.

Not emulated: asynchronous ingestion delays, the 5 min–90 d age window of ``latestValue``; a
simulation twin's µs timestamps are accepted but stored at 1 ms (per-tenant quotas are enforced
for every service, :mod:`...quotas`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...errors import INVALID_BODY, ApiError
from ...timefmt import TimeFormatError, now_ms, parse_iso, parse_iso_sub_ms
from .generators import SeriesGenerator
from .pagecache import PageCache
from .store import MAX_TIME, MIN_TIME, Hit, Record, SeriesData, scan

SchemaLookup = Callable[[str, str], "dict[str, dict[str, Any]] | None"]
GeneratorLookup = Callable[[str, str], "SeriesGenerator | None"]
TwinLookup = Callable[[str], "str | None"]

MAX_MULTI_PAIRS = 5  # PUT /timeseries: <= 5 entity/property-set pairs (§4)
MAX_MULTI_ITEMS = 100  # ... and <= 100 records in total
_LATEST_SCAN = 10_000  # records scanned back to find each variable's latest value


def _check_value(name: str, value: Any, var: dict[str, Any]) -> bool:
    data_type = var["dataType"]
    if data_type == "DOUBLE":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if data_type in ("INT", "LONG"):
        limit = 2**31 if data_type == "INT" else 2**63
        return isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit
    if data_type == "BOOLEAN":
        return isinstance(value, bool)
    if data_type == "TIMESTAMP":
        try:
            return isinstance(value, str) and parse_iso(value) is not None
        except TimeFormatError:
            return False
    return isinstance(value, str) and len(value) <= (var.get("length") or 255)


class TimeSeriesBackend:
    """Time series of one tenant.

    :param schema_of: ``(entity, property set) -> {variable: definition}``; ``None`` when the
        asset has no such aspect; raises a 404 for unknown assets
    :param generator_of: ``(entity, property set) -> generator`` for generated demo data
    :param clock: epoch-milliseconds clock
    :param page_cache: rendered pages to keep for benchmarks (0: render every page)
    :param twin_of: ``entity -> twinType`` (``performance`` when ``None`` or not given)
    """

    def __init__(
        self,
        schema_of: SchemaLookup,
        generator_of: GeneratorLookup,
        clock: Callable[[], int] = now_ms,
        page_cache: int = 0,
        twin_of: TwinLookup | None = None,
    ) -> None:
        #: Rendered pages kept for benchmarks (:mod:`.pagecache`); empty unless ``page_cache`` is set.
        self.pages = PageCache(page_cache)
        self._schema_of = schema_of
        self._generator_of = generator_of
        self._clock = clock
        self._twin_of = twin_of
        self._series: dict[tuple[str, str], SeriesData] = {}

    def schema(self, entity: str, ps: str) -> dict[str, dict[str, Any]]:
        """Return the variables of a property set.

        :param entity: asset id
        :param ps: property set (aspect) name
        :raises ApiError: 404 when the asset or the aspect does not exist
        """
        try:
            variables = self._schema_of(entity, ps)
        except ApiError as exc:
            raise ApiError(404, f"Entity with id {entity} not found") from exc
        if variables is None:
            raise ApiError(404, f"Property set with name {ps} does not exist for entity {entity}")
        return variables

    def check_select(self, entity: str, ps: str, select: list[str] | None) -> tuple[str, ...] | None:
        """Validate a ``select`` list against the property set.

        :param entity: asset id
        :param ps: property set name
        :param select: variable names, or ``None`` for all
        :raises ApiError: 400 naming a variable that does not belong to the property set
        """
        variables = self.schema(entity, ps)
        if select is None:
            return None
        for name in select:
            if name not in variables:
                raise ApiError(400, f"Property with name {name} does not belong to property set with name {ps}!")
        return tuple(select)

    def generator(self, entity: str, ps: str) -> SeriesGenerator | None:
        """Return the generator of a property set, if it has generated data.

        :param entity: asset id
        :param ps: property set name
        """
        return self._generator_of(entity, ps)

    def data(self, entity: str, ps: str) -> SeriesData:
        """Return the written state of a property set (created empty on first use).

        :param entity: asset id
        :param ps: property set name
        """
        key = (entity, ps)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = SeriesData()
        return found

    def read(self, entity: str, ps: str, lo: int, hi: int, limit: int, descending: bool = False) -> list[Hit]:
        """Return up to ``limit`` records in ``(lo, hi]``.

        :param entity: asset id
        :param ps: property set name
        :param lo: exclusive start, epoch ms
        :param hi: inclusive end, epoch ms
        :param limit: maximum records
        :param descending: newest first
        """
        self.schema(entity, ps)
        return scan(self.data(entity, ps), self.generator(entity, ps), self._clock(), lo, hi, limit, descending)

    def values(self, entity: str, ps: str, hit: Hit, names: tuple[str, ...] | None = None) -> Record:
        """Return the values of one scan hit (generated or written), without ``_time``.

        :param entity: asset id
        :param ps: property set name
        :param hit: ``(t, record or None)``
        :param names: only these variables
        """
        t, record = hit
        if record is None:
            gen = self.generator(entity, ps)
            return gen.record(t, names) if gen is not None else {}
        if names is None:
            return record
        return {k: v for k, v in record.items() if k in names or (k.endswith("_qc") and k[:-3] in names)}

    def iter_values(self, entity: str, ps: str, lo: int, hi: int, chunk: int = 5000) -> Iterator[tuple[int, Record]]:
        """Yield every ``(t, values)`` in ``(lo, hi]`` in time order.

        :param entity: asset id
        :param ps: property set name
        :param lo: exclusive start
        :param hi: inclusive end
        :param chunk: records fetched per scan
        """
        while True:
            hits = self.read(entity, ps, lo, hi, chunk)
            for hit in hits:
                yield hit[0], self.values(entity, ps, hit)
            if len(hits) < chunk:
                return
            lo = hits[-1][0]

    def latest(self, entity: str, ps: str, names: tuple[str, ...] | None) -> list[tuple[int, Record]]:
        """Return each variable's latest value, grouped by timestamp, oldest first.

        :param entity: asset id
        :param ps: property set name
        :param names: only these variables
        """
        wanted = set(names or self.schema(entity, ps))
        found: dict[int, Record] = {}
        for hit in self.read(entity, ps, MIN_TIME, MAX_TIME, _LATEST_SCAN, descending=True):
            values = self.values(entity, ps, hit)
            for name in [n for n in wanted if n in values]:
                record = found.setdefault(hit[0], {})
                record[name] = values[name]
                if name + "_qc" in values:
                    record[name + "_qc"] = values[name + "_qc"]
                wanted.discard(name)
            if not wanted:
                break
        return sorted(found.items())

    def put(self, entity: str, ps: str, records: Any) -> int:
        """Validate and store records, replacing whole records (§4); return the count.

        :param entity: asset id
        :param ps: property set name
        :param records: list of ``{"_time": ..., variable: value}``
        :raises ApiError: 400 for a malformed record; nothing is stored then
        """
        parsed = self.validate(entity, ps, records)
        self.pages.forget(entity, ps)
        self.data(entity, ps).write(parsed)
        return len(parsed)

    def validate(self, entity: str, ps: str, records: Any) -> dict[int, Record]:
        """Check records against the property set and return ``{t: values}``.

        :param entity: asset id
        :param ps: property set name
        :param records: the records
        :raises ApiError: 400 naming the problem; a ``_time`` finer than 1 ms is one unless the
            asset is a simulation twin (see the module docstring)
        """
        variables = self.schema(entity, ps)
        if not isinstance(records, list):
            raise ApiError(400, "Time series data must be a JSON array of records", INVALID_BODY)
        takes_us = self._twin_of is not None and self._twin_of(entity) == "simulation"
        out: dict[int, Record] = {}
        for index, rec in enumerate(records):
            if not isinstance(rec, dict) or not isinstance(rec.get("_time"), str):
                raise ApiError(400, f"Record {index} has no '_time'", INVALID_BODY)
            try:
                t, sub_ms = parse_iso_sub_ms(rec["_time"])
            except TimeFormatError as exc:
                raise ApiError(400, f"Record {index}: {exc}", INVALID_BODY) from exc
            if sub_ms and not takes_us:
                raise ApiError(
                    400,
                    f"Record {index}: _time {rec['_time']!r} is finer than 1 ms; only assets of twinType "
                    "simulation take microseconds",
                    INVALID_BODY,
                )
            out[t] = self._record_values(rec, variables, ps, index)
        return out

    def _record_values(self, rec: dict[str, Any], variables: dict[str, dict[str, Any]], ps: str, index: int) -> Record:
        values: Record = {}
        for key, value in rec.items():
            if key == "_time" or value is None:
                continue
            base = key[:-3] if key.endswith("_qc") else key
            var = variables.get(base)
            if var is None or (base != key and not var.get("qualityCode")):
                raise ApiError(400, f"Property with name {key} does not belong to property set with name {ps}!")
            ok = (
                isinstance(value, int) and not isinstance(value, bool) if base != key else _check_value(key, value, var)
            )
            if not ok:
                raise ApiError(400, f"Record {index}: value {value!r} of {key} is not a valid {var['dataType']}")
            values[key] = value
        return values

    def delete(self, entity: str, ps: str, lo: int, hi: int) -> None:
        """Delete ``(lo, hi]``, generated data included.

        :param entity: asset id
        :param ps: property set name
        :param lo: exclusive start
        :param hi: inclusive end
        """
        self.schema(entity, ps)
        if hi <= lo:
            raise ApiError(400, "'to' must be after 'from'")
        self.pages.forget(entity, ps)
        self.data(entity, ps).delete(lo, hi)

    def put_multi(self, body: Any) -> list[dict[str, Any]]:
        """Store ``{"timeseries": [{entityId, propertySetName, data}]}``; return per-pair errors.

        Each pair succeeds or fails on its own (the real API answers 202 with per-pair errors).

        :param body: the request body
        :raises ApiError: 400 when the body itself is malformed or exceeds the limits
        """
        items = body.get("timeseries") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, 'Body must be {"timeseries": [{entityId, propertySetName, data}]}', INVALID_BODY)
        if len(items) > MAX_MULTI_PAIRS:
            raise ApiError(400, f"At most {MAX_MULTI_PAIRS} entity/property set pairs per request")
        # Only list values count: any other ``data`` fails its own pair with a 400, as the real API
        # answers malformed pairs (202 with per-pair errors 400/404/429, §4).
        if sum(len(data) for data in _multi_data(items)) > MAX_MULTI_ITEMS:
            raise ApiError(400, f"At most {MAX_MULTI_ITEMS} records per request")
        errors = []
        for item in items:
            entity = item.get("entityId") if isinstance(item, dict) else None
            ps = item.get("propertySetName") if isinstance(item, dict) else None
            try:
                if not isinstance(entity, str) or not isinstance(ps, str):
                    raise ApiError(400, "entityId and propertySetName are required")
                self.put(entity, ps, item.get("data"))
            except ApiError as exc:
                errors.append({"entityId": entity, "propertySetName": ps, "status": exc.status, "message": exc.message})
        return errors


def _multi_data(items: list[Any]) -> Iterator[list[Any]]:
    """Yield the ``data`` lists of a multi-entity PUT body's pairs; malformed pairs yield nothing."""
    for item in items:
        data = item.get("data") if isinstance(item, dict) else None
        if isinstance(data, list):
            yield data
