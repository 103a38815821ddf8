"""Event-driven report: wait for alarm events, read each asset's data around them, write a report.

For each day (data interval ``[00:00, 24:00)`` UTC; a manual run without one covers the 3 days
before it, for the sensor and the query alike, which against the emulator holds its alarms):

1. ``wait_for_alarms`` (``MdspEventSensor``, deferrable) waits until an event of the alarm type
   exists after the start of the interval. While it waits it holds no worker slot: the triggerer
   checks every ``poke_interval``. With no alarm within ``timeout`` the rest of the run is skipped;
2. ``alarm_events`` reads the alarm events of the interval (``MdspQueryEventsOperator``);
3. ``read_around_alarm`` reads each alarmed asset's aspect from 30 minutes before to 30 minutes
   after its event, one JSON Lines file per event (mapped over the events, each labelled with its
   asset's name and the window's start);
4. ``write_report`` writes a Markdown report with each variable's minimum, mean and maximum around
   each alarm.

Against the local emulator the defaults fit its demo plant: the event type ``demo.PumpAlarm`` and
the pumps' aspect ``PumpData``; the emulator holds an alarm at 12:00 UTC on each of the last three
days. For a real tenant, change the params.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Param, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_mdsp.operators.events import MdspQueryEventsOperator
from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator
from airflow_provider_mdsp.sensors.events import MdspEventSensor

#: The day a run covers: its data interval, or for a manual run without one, its run time.
RUN_DAY = "{{ (data_interval_start | default(dag_run.run_after, true)) | ds }}"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/" + RUN_DAY
#: Start of the alarms a run covers: its data interval, or for a manual run the 3 days before it.
WINDOW_START = "{{ data_interval_start | default(dag_run.run_after - macros.timedelta(days=3), true) }}"
#: Minutes of data read before and after each event.
AROUND_MINUTES = 30

with DAG(
    dag_id="mdsp_event_driven_report",
    description="Wait for alarm events, read the data around each, write a report",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["mdsp", "example", "events", "deferrable"],
    params={
        "event_type": Param("demo.PumpAlarm", type="string", description="Event type to wait for"),
        "aspect": Param("PumpData", type="string", description="Aspect read around each event"),
    },
    # Every task first checks that the output location works on this executor (docs/cluster.md).
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:
    wait_for_alarms = MdspEventSensor(
        task_id="wait_for_alarms",
        type_id="{{ params.event_type }}",
        # A manual run without a data interval waits for an alarm of the 3 days before it, the
        # window alarm_events then reads, so an alarm the sensor found is always in the report.
        after=WINDOW_START,
        deferrable=True,
        poke_interval=300,
        timeout=timedelta(hours=6).total_seconds(),
        soft_fail=True,
    )

    alarm_events = MdspQueryEventsOperator(
        task_id="alarm_events",
        type_id="{{ params.event_type }}",
        from_time=WINDOW_START,  # to_time: the interval's end, or the run's time
    )

    @task
    def read_windows(events: dict) -> list[dict]:
        """Return one read window per event: its asset (id and name), 30 minutes either side of its time."""
        from datetime import datetime, timedelta

        from airflow_provider_mdsp.operators.assets import asset_names

        around = timedelta(minutes=AROUND_MINUTES)
        names = asset_names(event["entityId"] for event in events["data"])
        windows = []
        for event in events["data"]:
            moment = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
            windows.append(
                {
                    "asset_id": event["entityId"],
                    "asset_name": names[event["entityId"]],
                    "from_time": (moment - around).isoformat(),
                    "to_time": (moment + around).isoformat(),
                }
            )
        return windows

    read_around_alarm = MdspReadTimeSeriesOperator.partial(
        task_id="read_around_alarm",
        aspect="{{ params.aspect }}",
        output_path=OUTPUT_DIR + "/around-{{ ti.map_index }}.jsonl",
        map_index_template="{{ task.asset_name }} around {{ task.from_time }}",
    ).expand_kwargs(read_windows(alarm_events.output))

    @task
    def write_report(events: dict, reads: list[dict], **context) -> dict:
        """Write a Markdown report: per alarm, each variable's min, mean and max around it."""
        import json

        from airflow.sdk import ObjectStoragePath

        day = context.get("data_interval_start") or context["dag_run"].run_after
        lines = [f"# Alarms of {day:%Y-%m-%d}", ""]
        for event, read in zip(events["data"], reads, strict=True):
            values: dict[str, list[float]] = {}
            with ObjectStoragePath(read["path"]).open("r") as handle:
                for line in handle:
                    for name, value in json.loads(line).items():
                        if not name.startswith("_") and not name.endswith("_qc") and isinstance(value, (int, float)):
                            values.setdefault(name, []).append(value)
            lines += [
                f"## {event['typeId']} {event['id']}",
                "",
                f"On asset {event['entityId']} at {event['timestamp']}:",
                "",
                f"{read['records']} records from {read['from']} to {read['to']}.",
                "",
                "| Variable | Min | Mean | Max |",
                "|---|---|---|---|",
            ]
            for name, series in sorted(values.items()):
                mean = sum(series) / len(series)
                lines.append(f"| {name} | {min(series):.2f} | {mean:.2f} | {max(series):.2f} |")
            lines.append("")
        target = ObjectStoragePath(reads[0]["path"]).parent / "report.md" if reads else None
        if target is None:
            return {"alarms": 0, "path": None}
        target.write_text("\n".join(lines))
        return {"alarms": len(reads), "path": str(target)}

    report = write_report(alarm_events.output, read_around_alarm.output)
    wait_for_alarms >> alarm_events
