"""``MdspReadAggregatesOperator``: min/max/average/sum per interval from IoT TS Aggregates v4."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.timeseries import MdspAspectReadOperator, variables_list
from airflow_provider_mdsp.timeutil import format_time

#: The client's parameter names, as the operator's user knows them.
_OPERATOR_FIELDS = {"from_": "from_time", "to": "to_time"}


def check_aggregate_request(start: datetime, end: datetime, interval_value: Any, interval_unit: Any) -> tuple[int, str]:
    """Check a request against the service's rules before any call; return ``(value, unit)``.

    :raises MdspConfigError: naming the operator parameter at fault (``interval_unit``,
        ``interval_value``, ``from_time`` or ``to_time``) and the allowed values.
    """
    from airflow_provider_mdsp.client.aggregates import validate_aggregate_request

    if interval_unit in (None, "") or interval_value in (None, ""):
        missing = "interval_unit" if interval_unit in (None, "") else "interval_value"
        raise MdspConfigError(f"{missing} is required, e.g. interval_unit='hour', interval_value=1", field=missing)
    try:
        validate_aggregate_request(from_=start, to=end, interval_value=interval_value, interval_unit=interval_unit)
    except MdspConfigError as exc:
        field = _OPERATOR_FIELDS.get(exc.field or "", exc.field)
        raise MdspConfigError(f"{exc} (operator parameter {field})", field=field) from None
    return int(str(interval_value).strip()), str(interval_unit).strip().lower()


#: Seconds per interval unit that has fixed-length buckets (weeks and months follow the calendar).
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def whole_buckets(start: datetime, end: datetime, value: int, unit: str) -> tuple[datetime, datetime]:
    """Return the part of ``[start, end)`` made of whole intervals (UTC boundaries); weeks/months unchanged.

    Buckets are ``[starttime, endtime)`` and the service widens a window to whole buckets, so a
    window that starts or ends inside one returns a first or last bucket that holds only part of the
    requested time, while looking complete.

    :param start: window start.
    :param end: window end.
    :param value: units per interval.
    :param unit: interval unit.
    """
    size = _UNIT_SECONDS.get(unit, 0) * value
    if not size:
        return start, end
    epoch = datetime(1970, 1, 1, tzinfo=start.tzinfo)
    first = -(-int((start - epoch).total_seconds()) // size) * size  # round up
    last = int((end - epoch).total_seconds()) // size * size  # round down
    return epoch + timedelta(seconds=first), epoch + timedelta(seconds=max(first, last))


class MdspReadAggregatesOperator(MdspAspectReadOperator):
    """Read pre-calculated aggregates of an asset's aspect per interval, into XCom or ``output_path``.

    The request is checked against the service's rules (units, values per unit, longest range per
    unit) before any call. The window defaults to the run's data interval, like
    :class:`~airflow_provider_mdsp.operators.timeseries.MdspReadTimeSeriesOperator`; an empty window
    returns a zero-record summary without calling the API.

    Each aggregate covers ``[starttime, endtime)``, unlike a time-series read's ``(from, to]``: the
    hour ending 05:00 is 04:00-04:59 here and 04:01-05:00 in a read (set ``include_start=True`` on
    the read to match). The service widens a window that does not fall on interval boundaries to
    whole intervals, so its first or last interval then covers more than was asked; the operator
    logs a warning, and ``align=True`` narrows the window to the whole intervals inside it instead.
    Empty intervals are omitted.

    Output: ``output_path`` (a file, written atomically; templated), ``output_format`` and
    ``max_xcom_records``, as :class:`~airflow_provider_mdsp.operators.base.MdspReadOperator` describes.

    Lineage: ``gateway_host`` is the host of the ``mdsp://`` asset it declares in ``inlets``,
    as :class:`~airflow_provider_mdsp.operators.lineage.LineageMixin` describes.

    :param asset_id: the asset id; templated.
    :param aspect: the aspect name; templated.
    :param asset_name: the asset's name, for people only: shown in the logs and the label of a
        mapped read (``map_index_template="{{ task.asset_name }}"``); never sent to the API; templated.
    :param from_time: window start; templated.
    :param to_time: window end; templated.
    :param interval_unit: ``minute``, ``hour``, ``day``, ``week`` or ``month``; templated.
    :param interval_value: units per interval (minute 2–60 even, hour 1–24, day 1–90, week 1–12,
        month 1–3); templated.
    :param variables: variables (``["v1"]``) or single aggregates (``"v1.sum"``); ``None`` for all.
    :param lookback: window length for runs without a data interval.
    :param align: read only the whole intervals inside the window (minute, hour and day intervals,
        on UTC boundaries); the summary's ``from``/``to`` are then the narrowed window.
    :returns: ``{"asset_id", "aspect", "from", "to", "interval_unit", "interval_value", "records",
        "first_time", "last_time"}`` plus ``data`` or ``path``/``format``/``bytes``.
    """

    template_fields: tuple[str, ...] = (*MdspAspectReadOperator.template_fields, "interval_unit", "interval_value")

    def __init__(
        self,
        *,
        interval_unit: str = "hour",
        interval_value: int | str = 1,
        align: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.align = align
        self.interval_unit = interval_unit
        self.interval_value = interval_value

    def whole_or_warn(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """Narrow the window to whole intervals (``align``), or warn when it has a partial one."""
        if start == end:
            return start, end
        value, unit = check_aggregate_request(start, end, self.interval_value, self.interval_unit)
        whole = whole_buckets(start, end, value, unit)
        if whole == (start, end):
            return start, end
        if self.align:
            self.log.info(
                "Aligned the window to whole %d-%s intervals: [%s, %s)", value, unit, *map(format_time, whole)
            )
            return whole
        self.log.warning(
            "The window [%s, %s) does not fall on %d-%s boundaries: its first or last interval covers time outside "
            "it. Set align=True to read whole intervals only.",
            format_time(start),
            format_time(end),
            value,
            unit,
        )
        return start, end

    def execute(self, context: Any) -> dict:
        """Check the request, read the aggregates and deliver them."""
        start, end = self.window(context)
        start, end = self.whole_or_warn(start, end)
        summary: dict[str, Any] = {
            "asset_id": self.asset_id,
            "aspect": self.aspect,
            "from": format_time(start),
            "to": format_time(end),
        }
        if start == end:
            self.log.info("Empty window at %s: no aggregates to read", format_time(start))
            pages: list[list[dict]] = []
            summary.update(interval_unit=self.interval_unit, interval_value=self.interval_value)
        else:
            value, unit = check_aggregate_request(start, end, self.interval_value, self.interval_unit)
            summary.update(interval_unit=unit, interval_value=value)
            aggregates = self.hook.client.aggregates.get_aggregates(
                self.asset_id,
                self.aspect,
                from_=start,
                to=end,
                interval_value=value,
                interval_unit=unit,
                select=variables_list(self.variables),
            )
            pages = [aggregates]
        result = self.deliver(
            iter(pages),
            time_field="starttime",
            what="intervals",
        )
        self.log.info("Read %d aggregate intervals of %s", result["records"], self.aspect_label())
        return self.finish(summary, result)
