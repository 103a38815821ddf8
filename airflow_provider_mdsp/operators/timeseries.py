"""Operators for IoT Time Series v3: read a window of records, write records.

Reads stream page by page (``Link`` paging) into XCom or ``output_path``; writes stream records
from a list, an upstream result or a file, and the client cuts them into requests under the
size limits. Writers emit the Airflow asset ``mdsp://<gateway host>/<asset id>/<aspect>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from airflow_provider_mdsp.assets import AssetDeclarations
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspPartialWriteError
from airflow_provider_mdsp.operators.assets import asset_label
from airflow_provider_mdsp.operators.base import (
    MdspBaseOperator,
    MdspReadOperator,
    TimeWindowMixin,
    path_value,
)
from airflow_provider_mdsp.operators.formats import iter_records_file
from airflow_provider_mdsp.operators.lineage import LineageMixin, storage_uri
from airflow_provider_mdsp.operators.progress import ReadProgress
from airflow_provider_mdsp.params import names_list
from airflow_provider_mdsp.timeutil import format_time


def variables_list(variables: str | Iterable[str] | None) -> list[str] | None:
    """Return the variables to ``select``, from a list or ``"a,b"`` (``None`` or empty: all)."""
    return names_list(variables) or None


def records_source(records: Any, input_path: Any) -> Iterable[Mapping[str, Any]]:
    """Return the records to write, from exactly one of ``records`` and ``input_path``.

    ``records`` may be a list of records, JSON text of one (a Jinja template rendered without
    ``render_template_as_native_obj``), or the XCom result of the read operator: its ``data``, or
    its ``path`` (then the file is read).

    :raises MdspConfigError: neither or both given, or ``records`` of an unusable shape.
    """
    input_path = path_value(input_path, "input_path")
    if isinstance(records, str):
        records = _json_text(records, "records") if records.strip() else None
    if isinstance(records, Mapping):
        if isinstance(records.get("data"), list):
            records = records["data"]
        elif records.get("path") and not input_path:
            records, input_path = None, str(records["path"])
        else:
            raise MdspConfigError(
                "records is a dict without 'data' or 'path'; give a list of {'_time': …} records", field="records"
            )
    if records is not None and input_path:
        raise MdspConfigError("Give records or input_path, not both", field="input_path")
    if input_path:
        return iter_records_file(input_path)
    if records is None:
        raise MdspConfigError("Nothing to write: give records (a list or an XComArg) or input_path", field="records")
    if not isinstance(records, Iterable):
        raise MdspConfigError(f"records must be a list of dicts, not {type(records).__name__}", field="records")
    return records


def _json_text(text: str, field: str) -> Any:
    """Parse a parameter that a Jinja template rendered to text (no ``render_template_as_native_obj``)."""
    try:
        return json.loads(text)
    except ValueError:
        raise MdspConfigError(
            f"{field} rendered to text that is not JSON; set render_template_as_native_obj=True on the DAG, or "
            "pass the upstream task's output (an XComArg) instead of a Jinja string",
            field=field,
        ) from None


class TimeSpan:
    """The ``_time`` of the first and last record that went through :meth:`watch` (rendered as the API does)."""

    first: str | None = None
    last: str | None = None

    def watch(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the records unchanged, noting the first and last ``_time``."""
        last = None
        for record in records:
            last = record.get("_time") if isinstance(record, Mapping) else None
            if self.first is None and last is not None:
                self.first = _stamp(last)
            yield record
        self.last = _stamp(last) if last is not None else None


def _stamp(value: Any) -> str:
    try:
        return format_time(value, name="_time")
    except MdspConfigError:  # the client names a bad _time with its record; not this summary's business
        return str(value)


class MdspAspectReadOperator(LineageMixin, TimeWindowMixin, MdspReadOperator):
    """Base of the reads of one asset's aspect over a time window (time series, aggregates).

    It holds the asset, aspect, variables and window, declares the aspect as the task's inlet
    (literal ids), and records lineage from the aspect to the file written.

    :param asset_id: the asset id; templated.
    :param aspect: the aspect name; templated.
    :param asset_name: the asset's name, for logs and the label of a mapped read only.
    :param variables: the variables to read (``select``); ``None`` for all.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "asset_id",
        "aspect",
        "asset_name",
        "variables",
        "from_time",
        "to_time",
    )

    def __init__(
        self,
        *,
        asset_id: str,
        aspect: str,
        asset_name: str | None = None,
        variables: str | list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.aspect = aspect
        self.asset_name = asset_name
        self.variables = variables
        AssetDeclarations(self, self.gateway_host).declare_read([(asset_id, aspect)])

    def aspect_label(self) -> str:
        """Return how the logs name the aspect read: ``<asset name (id)>/<aspect>``."""
        return f"{asset_label(self.asset_id, self.asset_name)}/{self.aspect}"

    def finish(self, summary: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
        """Record the lineage from the aspect to the file written (if any); return the task's result."""
        written = [storage_uri(result["path"])] if result.get("path") else []
        self.record_lineage(inputs=[self.mdsp_uri(self.asset_id, self.aspect)], outputs=written)
        return {**summary, **result}


class MdspReadTimeSeriesOperator(MdspAspectReadOperator):
    """Read an asset's aspect over a time window, all pages, into XCom or ``output_path``.

    The window is ``(from_time, to_time]`` (the API's ``from`` is exclusive): the hour ending 05:00
    holds 04:01-05:00 of minute data. ``include_start=True`` reads ``[from_time, to_time)`` instead,
    the rule of aggregate intervals and event windows (04:00-04:59), so a read and the aggregates of
    the same window cover the same records. Missing bounds come
    from the run's data interval; a run without one reads the ``lookback`` before the run's time
    (see :func:`~airflow_provider_mdsp.operators.base.resolve_window`). An empty window returns a
    zero-record summary without calling the API (and writes an empty file if ``output_path`` is set).

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``inlets``,
    as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param asset_id: the asset id; templated (and mappable: ``.expand(asset_id=[...])``).
    :param aspect: the aspect name; templated.
    :param asset_name: the asset's name, for people only: shown in the logs and the label of a
        mapped read (``map_index_template="{{ task.asset_name }}"``); never sent to the API;
        templated. :func:`~airflow_provider_mdsp.operators.assets.read_kwargs` gives it with the id.
    :param variables: variables to read (the API's ``select``), as a list or ``"a,b"``; ``None`` for all.
    :param from_time: window start, exclusive: ISO 8601 or datetime; templated.
    :param to_time: window end, inclusive; templated.
    :param lookback: window length for runs without a data interval.
    :param limit: records per page (the service returns at most 2000).
    :param concurrency: threads reading sub-windows of a long window at once, over one session and
        token; ``None`` for :data:`~airflow_provider_mdsp.client.windows.DEFAULT_CONCURRENCY`
        (``"auto"``: enough threads to cover the first page's round trip, 4 to 64), ``1``
        reads sequentially. Records are written in time order and are exactly those
        of a sequential read; a window of a few pages is read sequentially anyway, and after a 429
        every thread slows to a pace the service allows (docs/operators.md, "Concurrent reads").
    :param include_start: read ``[from_time, to_time)`` (start included, end left out) instead of
        the API's ``(from_time, to_time]``; the summary's ``from``/``to`` stay the window given.
    :returns: ``{"asset_id", "aspect", "from", "to", "records", "first_time", "last_time"}`` plus
        ``data`` (XCom) or ``path``, ``format``, ``bytes`` (file).
    """

    def __init__(
        self,
        *,
        limit: int = 2000,
        concurrency: int | str | None = None,
        include_start: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.include_start = include_start
        self.limit = limit
        self.concurrency = concurrency

    def execute(self, context: Any) -> dict:
        """Read the window and deliver the records."""
        start, end = self.window(context)
        summary = {"asset_id": self.asset_id, "aspect": self.aspect, "from": format_time(start), "to": format_time(end)}
        from airflow_provider_mdsp.client.windows import DEFAULT_CONCURRENCY

        if start == end:
            self.log.info("Empty window at %s: nothing to read", format_time(start))
            pages: Iterable[list[dict]] = iter(())
        else:
            # Time series keep 1 ms precision: one ms earlier turns (from, to] into [from, to).
            shift = timedelta(milliseconds=1) if self.include_start else timedelta(0)
            pages = self.hook.client.timeseries.iter_timeseries_pages(
                self.asset_id,
                self.aspect,
                from_=start - shift,
                to=end - shift,
                select=variables_list(self.variables),
                limit=self.limit,
                concurrency=DEFAULT_CONCURRENCY if self.concurrency is None else self.concurrency,
            )
            pages = ReadProgress(start, end, self.log).track(pages)
        result = self.deliver(
            pages,
            time_field="_time",
        )
        self.log.info(
            "Read %d records of %s in (%s, %s]%s",
            result["records"],
            self.aspect_label(),
            summary["from"],
            summary["to"],
            f" into {result['path']}" if "path" in result else "",
        )
        return self.finish(summary, result)


class MdspWriteTimeSeriesOperator(LineageMixin, MdspBaseOperator):
    """Write records to an asset's aspect, from a list, an upstream result or a file.

    A written record replaces the whole record at its ``_time`` (variables left out become
    NULL). Writes are asynchronous in the service: the data is readable shortly after, not at once.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``outlets`` (or
    emits through an ``AssetAlias``), as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param asset_id: the asset id; templated.
    :param aspect: the aspect name; templated.
    :param records: ``[{"_time": …, "<variable>": value}]``; templated. Also accepts the XCom result
        of :class:`MdspReadTimeSeriesOperator` (its ``data``, or its ``path``), e.g. ``read.output``.
        A Jinja string needs ``render_template_as_native_obj=True`` on the DAG (JSON text also works).
    :param input_path: instead of ``records``: a JSON Lines, JSON array or Parquet file at any
        ``ObjectStoragePath`` URI, streamed; templated. The result of an upstream read with
        ``output_path`` works too: ``input_path=read.output``.
    :param merge: merge the given variables into the existing records (PATCH: at most 24 h
        old data, sent 10 records per request, each all or nothing) instead of replacing records.
    :returns: ``{"asset_id", "aspect", "records", "requests", "first_time", "last_time"}`` (the times of
        the first and last record written); the asset event's ``extra`` holds the same.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "asset_id",
        "aspect",
        "records",
        "input_path",
    )
    template_fields_renderers = {"records": "json"}

    def __init__(
        self,
        *,
        asset_id: str,
        aspect: str,
        records: Any = None,
        input_path: str | None = None,
        merge: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.aspect = aspect
        self.records = records
        self.input_path = input_path
        self.merge = merge
        self._assets = AssetDeclarations(self, self.gateway_host)
        self._assets.declare_written([(asset_id, aspect)])

    def execute(self, context: Any) -> dict:
        """Stream the records to the Time Series API and return the counts."""
        span = TimeSpan()
        source = span.watch(records_source(self.records, self.input_path))
        timeseries = self.hook.client.timeseries
        write = timeseries.patch_timeseries if self.merge else timeseries.put_timeseries
        written = write(self.asset_id, self.aspect, source)
        summary = {"asset_id": self.asset_id, "aspect": self.aspect, "records": int(written)}
        summary.update(requests=written.requests, first_time=span.first, last_time=span.last)
        self.log.info(
            "Wrote %d records to %s/%s in %d request(s)", written, self.asset_id, self.aspect, written.requests
        )
        self._assets.emit(context, [(self.asset_id, self.aspect)], extra=summary)
        from_file = path_value(self.input_path, "input_path") or (
            path_value(self.records, "records")
            if isinstance(self.records, Mapping) and "data" not in self.records
            else None
        )
        read = [storage_uri(from_file)] if from_file else []
        self.record_lineage(inputs=read, outputs=[self.mdsp_uri(self.asset_id, self.aspect)])
        return summary


class MdspWriteTimeSeriesMultiOperator(LineageMixin, MdspBaseOperator):
    """Write records of several assets/aspects with the multi-entity PUT.

    Items are packed into requests of at most 5 pairs, 100 records and 100 kB by the client.
    The service answers 202 and may refuse single pairs (400, 404, 429): every such error is listed
    in the summary, and fails the task unless ``fail_on_partial_errors=False``.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``outlets`` (or
    emits through an ``AssetAlias``), as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param items: ``[{"entityId": asset id, "propertySetName": aspect, "data": [records]}]``; templated.
    :param fail_on_partial_errors: fail the task when any pair was refused (the summary is still
        pushed to XCom under the key ``summary``).
    :returns: ``{"requests", "records", "pairs", "errors": [{"entityId", "propertySetName", "status", "message"}]}``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "items")
    template_fields_renderers = {"items": "json"}

    def __init__(
        self,
        *,
        items: Any,
        fail_on_partial_errors: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.items = items
        self.fail_on_partial_errors = fail_on_partial_errors
        self._assets = AssetDeclarations(self, self.gateway_host)
        self._assets.declare_written(_literal_pairs(items))

    def execute(self, context: Any) -> dict:
        """Send the items and report per-pair errors."""
        items = _items_list(self.items)
        pairs = list(dict.fromkeys(_pair(item) for item in items))
        result = self.hook.client.timeseries.put_timeseries_multi(items)
        errors = list(result.get("errors") or [])
        summary = {**result, "pairs": len(pairs), "errors": errors}
        failed = {(str(e.get("entityId")), str(e.get("propertySetName"))) for e in errors}
        written = [p for p in pairs if p not in failed] if all(e.get("entityId") for e in errors) else []
        self._assets.emit(context, written, extra={"records": summary["records"]})
        self.record_lineage(outputs=[self.mdsp_uri(asset_id, aspect) for asset_id, aspect in written])
        if errors:
            self.log.warning("%d pair(s) refused in the multi-entity write: %s", len(errors), errors)
            if self.fail_on_partial_errors:
                ti = context.get("ti") if isinstance(context, Mapping) else None
                if ti is not None:
                    ti.xcom_push(key="summary", value=summary)
                raise MdspPartialWriteError(summary)
        return summary


def _items_list(items: Any) -> list[Mapping[str, Any]]:
    if isinstance(items, str):
        items = _json_text(items, "items")
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise MdspConfigError("items must be a list of {entityId, propertySetName, data} dicts", field="items")
    out = list(items)
    for item in out:
        _pair(item)
    return out


def _pair(item: Any) -> tuple[str, str]:
    if not isinstance(item, Mapping) or not item.get("entityId") or not item.get("propertySetName"):
        raise MdspConfigError("Every item needs 'entityId' and 'propertySetName'", field="items")
    return str(item["entityId"]), str(item["propertySetName"])


def _literal_pairs(items: Any) -> list[tuple[str, str]] | None:
    """Return the pairs of literal items (known at parse time), or ``None`` when templated."""
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        return None
    pairs: Iterator[tuple[Any, Any]] = ((i.get("entityId"), i.get("propertySetName")) for i in items)
    return list(dict.fromkeys(pairs))
