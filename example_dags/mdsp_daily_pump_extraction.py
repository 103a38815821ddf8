"""Daily pump extraction: every pump's time series into JSON Lines files, daily aggregates, alarms.

Runs once a day on the previous UTC day, its data interval (a manual run without a data interval
reads the UTC day before its run time, into that day's folder): time-series reads cover
``(00:00, 24:00]`` (the API's ``from`` is exclusive, so a file of minute data runs from 00:01 to
24:00), the daily aggregate ``[00:00, 24:00)``:

1. ``list_pumps`` lists the assets of the pump type (``MdspListAssetsOperator``, ``type_id`` filter);
2. ``read_timeseries`` reads each pump's aspect for the data interval into one JSON Lines file per
   pump (dynamic task mapping over the pumps, each mapped task labelled by the pump's name; the
   records stay out of XCom);
3. ``daily_aggregates`` reads each pump's daily aggregates (min/max/average … per variable);
4. ``find_overheating`` reads the files and picks the pumps whose value crossed the threshold;
5. ``raise_alarms`` creates one alarm event per such pump, at the first record above the threshold.

Against the local emulator the defaults fit its demo plant (8 pumps of type ``demo.Pump``, aspect
``PumpData``; ``Pump-A1-1`` runs above 80 °C every day from 12:00 to 12:30 UTC). For a real tenant,
change the params (pump type, aspect, variable, threshold, alarm event type); the alarm event type
must exist in your tenant with the fields ``temperature``, ``threshold`` and ``variable``, or clear
``alarm_event_type`` in the trigger form (empty or null) to raise standard events instead.

Files go under the Airflow Variable ``mdsp_output_dir``, a URI (default ``file:///tmp/mdsp-output``);
on a cluster, point it at shared storage, e.g. ``s3://aws_default@bucket/mdsp``: with a local path
on a multi-host executor every task fails at once, saying so (docs/cluster.md).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Param, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator
from airflow_provider_mdsp.operators.assets import MdspListAssetsOperator
from airflow_provider_mdsp.operators.events import MdspCreateEventOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

#: The day a run reads: its data interval, or for a manual run without one, the UTC day before its run time.
MIDNIGHT = "dag_run.run_after.replace(hour=0, minute=0, second=0, microsecond=0)"
DAY_START = "{{ data_interval_start | default(" + MIDNIGHT + " - macros.timedelta(days=1), true) }}"
DAY_END = "{{ data_interval_end | default(" + MIDNIGHT + ", true) }}"
#: Where each run writes its files: ``<mdsp_output_dir>/<dag id>/<day read>/``.
RUN_DAY = "{{ (data_interval_start | default(" + MIDNIGHT + " - macros.timedelta(days=1), true)) | ds }}"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/" + RUN_DAY

with DAG(
    dag_id="mdsp_daily_pump_extraction",
    description="Every pump's time series of the day into files, daily aggregates, alarm events",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["mdsp", "example", "timeseries", "events"],
    params={
        "pump_type_id": Param("demo.Pump", type="string", description="Asset type of the pumps"),
        "aspect": Param("PumpData", type="string", description="Aspect (property set) to read"),
        "variable": Param("Temperature", type="string", description="Variable checked against the threshold"),
        "threshold": Param(80.0, type="number", description="Raise an alarm above this value"),
        "alarm_event_type": Param(
            "demo.PumpAlarm",
            type=["null", "string"],
            description="Event type of the alarms; empty for standard events",
        ),
    },
    # Every task first checks that the output location works on this executor (docs/cluster.md).
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:
    list_pumps = MdspListAssetsOperator(
        task_id="list_pumps",
        type_id="{{ params.pump_type_id }}",
        fields=["assetId", "name"],
        sort="name,asc",
    )

    @task
    def pumps(listing: dict) -> list[dict]:
        """Return ``{"asset_id", "asset_name"}`` of each listed pump (what the reads are mapped over)."""
        from airflow_provider_mdsp.operators.assets import read_kwargs

        found = [read_kwargs(asset) for asset in listing["data"]]
        if not found:
            raise ValueError("No asset of the pump type was found: check the param pump_type_id")
        return found

    each_pump = pumps(list_pumps.output)

    # Each mapped read is labelled by the pump's name in the UI (Grid view, logs), not its id.
    read_timeseries = MdspReadTimeSeriesOperator.partial(
        task_id="read_timeseries",
        aspect="{{ params.aspect }}",
        from_time=DAY_START,
        to_time=DAY_END,
        output_path=OUTPUT_DIR + "/{{ task.asset_id }}.jsonl",
        output_format="jsonl",
        map_index_template="{{ task.asset_name }}",
    ).expand_kwargs(each_pump)

    daily_aggregates = MdspReadAggregatesOperator.partial(
        task_id="daily_aggregates",
        aspect="{{ params.aspect }}",
        from_time=DAY_START,
        to_time=DAY_END,
        interval_unit="day",
        interval_value=1,
        map_index_template="{{ task.asset_name }}",
    ).expand_kwargs(each_pump)

    @task
    def find_overheating(summaries: list[dict], params: dict | None = None) -> list[dict]:
        """Read each pump's file; return one alarm event per pump whose variable crossed the threshold."""
        import json

        from airflow.sdk import ObjectStoragePath

        assert params is not None  # filled in by Airflow
        variable, threshold = params["variable"], float(params["threshold"])
        alarms = []
        for summary in summaries:
            first, peak = None, None
            with ObjectStoragePath(summary["path"]).open("r") as handle:
                for line in handle:
                    record = json.loads(line)
                    value = record.get(variable)
                    if isinstance(value, (int, float)) and value > threshold:
                        first = first or record["_time"]
                        peak = value if peak is None else max(peak, value)
            if first is not None:
                alarm = {"entityId": summary["asset_id"], "timestamp": first}
                if params["alarm_event_type"]:
                    alarm.update(temperature=peak, threshold=threshold, variable=variable)
                else:
                    alarm.update(severity=2, description=f"{variable} peaked at {peak} (threshold {threshold})")
                alarms.append(alarm)
        print(f"{len(alarms)} of {len(summaries)} assets crossed {variable} > {threshold}")
        return alarms

    alarms = find_overheating(read_timeseries.output)

    raise_alarms = MdspCreateEventOperator(
        task_id="raise_alarms",
        type_id="{{ params.alarm_event_type or '' }}",
        events=alarms,
    )

    daily_aggregates >> raise_alarms
