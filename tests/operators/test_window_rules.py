"""One window rule per API: reads are (from, to], aggregate intervals [start, end); both can be matched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from statistics import fmean
from types import SimpleNamespace

import pytest

from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator, whole_buckets
from airflow_provider_mdsp.operators.datalake import MdspDataLakeExportOperator
from airflow_provider_mdsp.operators.events import MdspQueryEventsOperator
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

T = datetime(2026, 3, 1, 4, 30, tzinfo=timezone.utc)


def test_whole_buckets_narrow_a_window_to_the_intervals_inside_it():
    assert whole_buckets(T, T + timedelta(hours=2), 1, "hour") == (
        T + timedelta(minutes=30),
        T + timedelta(hours=1, minutes=30),
    )
    aligned = (T - timedelta(minutes=30), T + timedelta(minutes=30))
    assert whole_buckets(*aligned, 1, "hour") == aligned
    assert (
        whole_buckets(T, T + timedelta(minutes=10), 1, "hour")[0]
        == whole_buckets(T, T + timedelta(minutes=10), 1, "hour")[1]
    )
    assert whole_buckets(T, T + timedelta(days=30), 1, "month") == (T, T + timedelta(days=30))  # calendar: unchanged


@pytest.mark.integration
def test_a_read_with_include_start_matches_the_hour_aggregate_and_align_drops_partial_hours(
    emulator_connection, capsys
):
    pump = emulator_connection.demo_assets()["Pump-A1-1"]
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    start = end - timedelta(hours=1)
    window = {"asset_id": pump, "aspect": "PumpData", "variables": ["Temperature"], "from_time": start, "to_time": end}

    def mean_of_read(**extra):
        read = MdspReadTimeSeriesOperator(task_id="read", **window, **extra).execute({})
        return read["first_time"], fmean(r["Temperature"] for r in read["data"])

    aggregate = MdspReadAggregatesOperator(task_id="agg", interval_unit="hour", **window).execute({})
    [bucket] = aggregate["data"]
    first, mean = mean_of_read(include_start=True)
    assert first == bucket["starttime"]  # 04:00 belongs to the 04:00-05:00 interval
    assert mean == pytest.approx(bucket["Temperature"]["average"], rel=1e-9)
    first, mean = mean_of_read()
    assert first > bucket["starttime"]  # the API's own rule: (04:00, 05:00]

    capsys.readouterr()
    shifted = {**window, "from_time": start + timedelta(minutes=30), "to_time": end + timedelta(minutes=90)}
    MdspReadAggregatesOperator(task_id="agg", interval_unit="hour", **shifted).execute({})
    assert "does not fall on 1-hour boundaries" in capsys.readouterr().out  # the task log
    aligned = MdspReadAggregatesOperator(task_id="agg", interval_unit="hour", align=True, **shifted).execute({})
    assert [b["starttime"] for b in aligned["data"]] == [aggregate["data"][0]["endtime"]]


@pytest.mark.parametrize(
    "build",
    [
        lambda **w: MdspReadTimeSeriesOperator(task_id="t", asset_id="a", aspect="p", **w),
        lambda **w: MdspReadAggregatesOperator(task_id="t", asset_id="a", aspect="p", **w),
        lambda **w: MdspQueryEventsOperator(task_id="t", **w),
        lambda **w: MdspDataLakeExportOperator(task_id="t", asset_ids="a", aspect_names="p", **w),
    ],
    ids=["timeseries", "aggregates", "events", "datalake-export"],
)
def test_every_windowed_operator_takes_the_same_window_rules(build):
    run = SimpleNamespace(run_after=T)  # a manual run: no data interval
    assert build(lookback=timedelta(hours=3)).window({"dag_run": run}) == (T - timedelta(hours=3), T)
    explicit = build(from_time="2026-03-01T01:00:00Z", to_time=T)
    assert explicit.window({"dag_run": run}) == (datetime(2026, 3, 1, 1, tzinfo=timezone.utc), T)
    interval = {"data_interval_start": T - timedelta(days=1), "data_interval_end": T}
    assert build(from_time=None).window(interval) == (T - timedelta(days=1), T)
