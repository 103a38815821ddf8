"""IoT Time Series v3: read, write and delete the records of an asset's aspect (Node SDK
``sdk/iot/iot-timeseries.ts``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_link_pages, read_ahead
from airflow_provider_mdsp.client.paths import csv, segment
from airflow_provider_mdsp.client.retry import wait_seconds
from airflow_provider_mdsp.client.transport import Transport, parse_json
from airflow_provider_mdsp.client.windows import check_concurrency, iter_window_pages
from airflow_provider_mdsp.exceptions import MdspConfigError, parse_retry_after
from airflow_provider_mdsp.timeutil import TimeValue, format_time

log = logging.getLogger(__name__)

BASE = "/api/iottimeseries/v3"
#: Records per read page; the most plain Time Series returns per call (Siemens docs, IoT TS Bulk overview).
DEFAULT_READ_LIMIT = 2000
#: A single-entity PUT body may be at most 1 MB (Siemens docs, IoT Time Series samples).
PUT_PAYLOAD_LIMIT = 1_000_000
#: Chunks are cut at 90 % of that limit: "1 MB" may mean 10^6 bytes, and the gateway may count
#: headers or re-encode; a chunk refused for size would fail the whole task.
PUT_CHUNK_BYTES = 900_000
#: Multi-entity PUT limits (IoT Time Series OpenAPI spec 3.4.1): pairs, body, records.
MULTI_MAX_PAIRS = 5
MULTI_PAYLOAD_LIMIT = 100_000
#: Same 10 % headroom as :data:`PUT_CHUNK_BYTES`.
MULTI_CHUNK_BYTES = 90_000
MULTI_MAX_RECORDS = 100
#: How many more times pairs answered with 429 inside a 202 are resent before being reported.
MULTI_RATE_LIMIT_RETRIES = 3

_JSON = {"Content-Type": "application/json"}
#: PATCH limits: at most 10 records and 600 KB per request, records at most 24 h old (IoT Time Series API reference).
PATCH_MAX_RECORDS = 10
PATCH_PAYLOAD_LIMIT = 600 * 1024
PATCH_MAX_AGE = timedelta(hours=24)
_MULTI_EMPTY = len('{"timeseries":[]}')
_PAIR_EMPTY = len('{"entityId":,"propertySetName":,"data":[]}')


class WriteCount(int):
    """How many records a write sent (the value itself, so it compares and adds as an ``int``), and in
    how many requests (:attr:`requests`; the client's requests, not the transport's retries of one).

    :param records: records sent.
    :param requests: requests they took.
    """

    requests: int

    def __new__(cls, records: int, requests: int) -> WriteCount:
        count = super().__new__(cls, records)
        count.requests = requests
        return count

    def __getnewargs__(self) -> tuple[int, int]:  # type: ignore[override]  # pickles with its request count
        return int(self), self.requests

    def __repr__(self) -> str:
        return f"WriteCount({int(self)}, requests={self.requests})"


def dump_record(record: Mapping[str, Any]) -> str:
    """Serialise one time-series record compactly, rendering a datetime ``_time`` in the API format.

    A string ``_time`` is sent unchanged, so microsecond timestamps of simulation assets (``twinType``
    ``simulation``) survive.

    :param record: ``{"_time": …, "<variable>": value, …}``.
    """
    if not isinstance(record, Mapping) or "_time" not in record:
        raise MdspConfigError("Every time-series record must be a dict with a '_time' key", field="records")
    if isinstance(record["_time"], datetime):
        record = {**record, "_time": format_time(record["_time"], name="_time")}
    return json.dumps(record, separators=(",", ":"), default=str)


def iter_put_chunks(
    records: Iterable[Mapping[str, Any]], *, max_bytes: int = PUT_CHUNK_BYTES
) -> Iterator[tuple[bytes, int]]:
    """Group records into JSON array bodies of at most ``max_bytes``, in order.

    Yields ``(body, record_count)``; only one chunk is held in memory at a time.

    :param records: any iterable of records.
    :param max_bytes: largest body to produce.
    :raises MdspConfigError: a single record is larger than ``max_bytes``.
    """
    parts: list[str] = []
    size = 2  # the brackets
    for record in records:
        text = dump_record(record)  # ASCII only (ensure_ascii), so characters == bytes
        if len(text) + 2 > max_bytes:
            raise MdspConfigError(
                f"A record at _time {record.get('_time')} is {len(text)} bytes, more than one request "
                f"may carry ({max_bytes}); split its string values",
                field="records",
            )
        if parts and size + 1 + len(text) > max_bytes:
            yield ("[" + ",".join(parts) + "]").encode(), len(parts)
            parts, size = [], 2
        size += len(text) + (1 if parts else 0)
        parts.append(text)
    if parts:
        yield ("[" + ",".join(parts) + "]").encode(), len(parts)


Pair = tuple[str, str]
Batch = list[tuple[Pair, list[str]]]


def plan_multi_batches(
    items: Iterable[Mapping[str, Any]],
    *,
    max_pairs: int = MULTI_MAX_PAIRS,
    max_bytes: int = MULTI_CHUNK_BYTES,
    max_records: int = MULTI_MAX_RECORDS,
) -> Iterator[Batch]:
    """Pack ``{"entityId","propertySetName","data"}`` items into multi-entity PUT batches.

    A batch holds at most ``max_pairs`` pairs, ``max_records`` records and ``max_bytes`` of body; an
    item too big for one batch continues in the next. Records keep their order.
    """
    batch: Batch = []
    size, count = _MULTI_EMPTY, 0
    for item in items:
        pair = _pair_of(item)
        pair_cost = _PAIR_EMPTY + len(json.dumps(pair[0])) + len(json.dumps(pair[1]))
        for record in item.get("data") or []:
            text = dump_record(record)
            if _MULTI_EMPTY + pair_cost + len(text) > max_bytes:
                raise MdspConfigError(
                    f"A record of {pair[0]}/{pair[1]} is {len(text)} bytes, more than a multi-entity "
                    f"request may carry ({max_bytes}); write it with put_timeseries",
                    field="items",
                )
            new_pair = not batch or batch[-1][0] != pair
            cost = len(text) + (pair_cost + (1 if batch else 0) if new_pair else 1)
            if batch and (count >= max_records or size + cost > max_bytes or (new_pair and len(batch) >= max_pairs)):
                yield batch
                batch, size, count = [], _MULTI_EMPTY, 0
                new_pair, cost = True, pair_cost + len(text)
            if new_pair:
                batch.append((pair, []))
            batch[-1][1].append(text)
            size, count = size + cost, count + 1
    if batch:
        yield batch


def render_multi_body(batch: Batch) -> bytes:
    """Render a batch as the multi-entity PUT body ``{"timeseries":[…]}`` (PY:iottimeseries/sampleinput)."""
    pairs = (
        f'{{"entityId":{json.dumps(e)},"propertySetName":{json.dumps(p)},"data":[{",".join(data)}]}}'
        for (e, p), data in batch
    )
    return ('{"timeseries":[' + ",".join(pairs) + "]}").encode()


def parse_multi_errors(body: Any) -> list[dict[str, Any]]:
    """Read the per-pair errors of a multi-entity PUT answer (202 with 400/404/429 per pair, IoT Time Series
    OpenAPI spec 3.4.1).

    The exact body shape is not publicly documented, so this accepts a list of per-pair
    results or an object holding one under ``errors``/``failures``/``results``/``timeseries``, with
    the status under ``status``/``statusCode``/``httpStatus``/``code``. Entries with a status below
    400 are successes and skipped; entries with no status but a message count as errors.
    """
    if isinstance(body, Mapping):
        nested = next((body[k] for k in ("errors", "failures", "results", "timeseries") if k in body), None)
        body = nested if nested is not None else ([body] if "entityId" in body else [])
    errors = []
    for entry in body if isinstance(body, list) else []:
        if not isinstance(entry, Mapping):
            continue
        status = _status_of(entry)
        message = entry.get("message") or entry.get("errorMessage") or entry.get("error")
        if (status is not None and status < 400) or (status is None and not message):
            continue
        errors.append(
            {
                "entityId": entry.get("entityId"),
                "propertySetName": entry.get("propertySetName"),
                "status": status,
                "message": str(message or ""),
            }
        )
    return errors


def _status_of(entry: Mapping[str, Any]) -> int | None:
    for key in ("status", "statusCode", "httpStatus", "code"):
        try:
            return int(entry[key])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _pair_of(item: Mapping[str, Any]) -> Pair:
    entity, pset = item.get("entityId"), item.get("propertySetName")
    if not entity or not pset:
        raise MdspConfigError("Every item needs 'entityId' and 'propertySetName'", field="items")
    return str(entity), str(pset)


class TimeSeriesClient(ApiClient):
    """Read and write time series (IoT Time Series v3).

    :param transport: the transport to the gateway.
    :param sleep: sleep used between resends of throttled pairs; defaults to the transport's.
    """

    def __init__(self, transport: Transport, *, sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(transport)
        # Share the transport's (injectable) sleep, so tests that inject one never really wait.
        default: Callable[[float], None] = getattr(transport, "_sleep", timeutil.sleep)
        self._sleep = sleep or default

    def iter_timeseries_pages(
        self,
        entity_id: str,
        property_set: str,
        *,
        from_: TimeValue,
        to: TimeValue,
        select: str | Iterable[str] | None = None,
        limit: int = DEFAULT_READ_LIMIT,
        sort: str | None = None,
        prefetch: int = 1,
        concurrency: int | str = 1,
    ) -> Iterator[Page]:
        """Yield pages of records in ``(from_, to]``, in time order, following the ``Link`` header (Node SDK
        ``GetNextRecordsBulkStyle``).

        With ``concurrency`` above 1 a window longer than a few pages is cut into sub-windows read
        by that many threads over this client's session and token, paced after a 429, and the
        pages still arrive in time order with the same records as a sequential read
        (:mod:`~airflow_provider_mdsp.client.windows`). Descending reads stay sequential.

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param from_: exclusive start.
        :param to: inclusive end.
        :param select: variables to return, as a list or ``"a,b"``.
        :param limit: records per page (the service returns at most 2000).
        :param sort: ``asc`` or ``desc``.
        :param prefetch: pages fetched ahead while the caller handles the current one
            (:func:`~airflow_provider_mdsp.client.pagination.read_ahead`); ``0`` reads strictly in turn.
        :param concurrency: threads reading sub-windows at once; ``1`` (the default) reads sequentially;
            ``"auto"`` (what the read operator uses) sizes the pool from the first page's round trip,
            4 threads on a fast network to 64 at 150 ms and more
            (:func:`~airflow_provider_mdsp.client.windows.auto_threads`).
        """
        params = {
            "from": format_time(from_, name="from_"),
            "to": format_time(to, name="to"),
            "limit": limit,
            "select": csv(select),
            "sort": sort,
        }
        path = self._path(entity_id, property_set)
        threads = check_concurrency(concurrency)
        if threads != 1 and (sort or "asc").lower() == "asc":
            return iter_window_pages(self.transport, path, params=params, threads=threads, prefetch=prefetch)
        return read_ahead(iter_link_pages(self.transport, path, params=params), prefetch)

    def iter_timeseries(self, entity_id: str, property_set: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield records one by one; takes the arguments of :meth:`iter_timeseries_pages`."""
        return iter_items(self.iter_timeseries_pages(entity_id, property_set, **kwargs))

    def get_latest_values(
        self, entity_id: str, property_set: str, *, select: str | Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Return the latest value of each variable (``latestValue=true``; 5 min to 90 days old).

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param select: variables to return.
        """
        params = {"latestValue": "true", "select": csv(select)}
        body = self.transport.request_json("GET", self._path(entity_id, property_set), params=params)
        return list(body or [])

    def put_timeseries(self, entity_id: str, property_set: str, records: Iterable[Mapping[str, Any]]) -> WriteCount:
        """Write records, in chunks under the 1 MB body limit; return how many were sent, in how many requests.

        A record replaces the whole record at its ``_time``; variables left out become NULL (Siemens docs, IoT
        Time Series samples).
        Writes are asynchronous on the service side: data is readable shortly after, not at once.

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param records: any iterable of ``{"_time": …, "<variable>": value}``; streamed, never
            held in memory as a whole.
        """
        path, written, requests = self._path(entity_id, property_set), 0, 0
        for body, count in iter_put_chunks(records):
            self.transport.request("PUT", path, data=body, headers=_JSON)
            written, requests = written + count, requests + 1
        return WriteCount(written, requests)

    def patch_timeseries(self, entity_id: str, property_set: str, records: Iterable[Mapping[str, Any]]) -> WriteCount:
        """Merge the given variables into existing records (PATCH), 10 records per request; return the count
        of records, in how many requests.

        Only the variables named change; the rest of each record stays (IoT Time Series API reference). The service
        takes at most 10 records and 600 KB per request, records at most 24 hours old and not in
        the future, no BIG_STRING; a request is applied whole or not at all. Old records are
        refused here, before anything is sent. Sending the same merge twice changes nothing, so
        a request is resent after a lost reply.

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param records: ``{"_time": …, "<variable>": value}`` each; ``_time`` a datetime or ISO text.
        """
        path, sent, requests = self._path(entity_id, property_set), 0, 0
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(patch_record(record, timeutil.utcnow()))
            if len(batch) == PATCH_MAX_RECORDS:
                sent, requests = sent + self._send_patch(path, batch), requests + 1
                batch = []
        if batch:
            sent, requests = sent + self._send_patch(path, batch), requests + 1
        return WriteCount(sent, requests)

    def _send_patch(self, path: str, batch: list[dict[str, Any]]) -> int:
        body = json.dumps(batch, separators=(",", ":")).encode()
        if len(body) > PATCH_PAYLOAD_LIMIT:
            raise MdspConfigError(
                f"{len(batch)} records make {len(body)} bytes; a PATCH takes at most {PATCH_PAYLOAD_LIMIT}",
                field="records",
            )
        self.transport.request("PATCH", path, data=body, headers=_JSON, idempotent=True)
        return len(batch)

    def put_timeseries_multi(self, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Write records of several assets/aspects with the multi-entity PUT and report per-pair errors.

        Items are packed into requests of at most 5 pairs, 100 records and 100 kB (IoT Time Series OpenAPI spec
        3.4.1). The service
        answers 202 and may report errors per pair (400, 404, 429): pairs throttled with 429 are
        resent with backoff up to :data:`MULTI_RATE_LIMIT_RETRIES` times; every error left is
        returned, none is dropped.

        :param items: ``{"entityId", "propertySetName", "data": [records]}`` dicts.
        :return: ``{"requests": n, "records": accepted records, "errors": [{"entityId",
            "propertySetName", "status", "message"}]}``.
        """
        result: dict[str, Any] = {"requests": 0, "records": 0, "errors": []}
        for batch in plan_multi_batches(items):
            self._send_multi(batch, result, retry=0)
        return result

    def _send_multi(self, batch: Batch, result: dict[str, Any], *, retry: int) -> None:
        response = self.transport.request("PUT", f"{BASE}/timeseries", data=render_multi_body(batch), headers=_JSON)
        result["requests"] += 1
        errors = parse_multi_errors(parse_json(response))
        failed = {(str(e["entityId"]), str(e["propertySetName"])) for e in errors}
        throttled = {(str(e["entityId"]), str(e["propertySetName"])) for e in errors if e["status"] == 429}
        unknown = [e for e in errors if e["entityId"] is None]
        result["records"] += 0 if unknown else sum(len(d) for p, d in batch if p not in failed)
        if unknown:
            # An error naming no pair cannot be attributed; report it and count nothing as written.
            result["errors"].extend(errors)
            return
        if not throttled or retry >= MULTI_RATE_LIMIT_RETRIES:
            result["errors"].extend(errors)
            return
        result["errors"].extend(e for e in errors if e["status"] != 429)
        settings = self.transport.settings
        wait = wait_seconds(
            retry + 1,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            base=settings.backoff_base,
            cap=settings.max_retry_wait,
        )
        log.warning("%d pair(s) throttled (429) in a multi-entity write; resending in %.1f s", len(throttled), wait)
        self._sleep(wait)
        again = [(p, d) for p, d in batch if p in throttled]
        self._send_multi(again, result, retry=retry + 1)

    def delete_timeseries(self, entity_id: str, property_set: str, *, from_: TimeValue, to: TimeValue) -> None:
        """Delete the records in ``(from_, to]``; both bounds are required by the service (Node SDK
        ``DeleteTimeSeries``).

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param from_: exclusive start.
        :param to: inclusive end.
        """
        params = {"from": format_time(from_, name="from_"), "to": format_time(to, name="to")}
        self.transport.request("DELETE", self._path(entity_id, property_set), params=params)

    @staticmethod
    def _path(entity_id: str, property_set: str) -> str:
        return f"{BASE}/timeseries/{segment(entity_id, name='entity_id')}/{segment(property_set, name='property_set')}"


def patch_record(record: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Return a PATCH record with ``_time`` in API form, refusing a time the service would refuse.

    :param record: ``{"_time": …, "<variable>": value}``.
    :param now: the current time.
    :raises MdspConfigError: no ``_time``, or one older than 24 hours or in the future.
    """
    if record.get("_time") in (None, ""):
        raise MdspConfigError("Every PATCH record needs a '_time'", field="records")
    moment = timeutil.to_datetime(record["_time"], name="_time")
    if moment > now or moment < now - PATCH_MAX_AGE:
        raise MdspConfigError(
            f"PATCH merges only records of the last 24 hours (not in the future); {format_time(moment)} is "
            "outside; write it with a PUT (merge=False) instead",
            field="records",
        )
    return {**record, "_time": format_time(moment)}
