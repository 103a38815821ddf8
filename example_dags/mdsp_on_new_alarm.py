"""Event-driven: run when new pump alarms appear in Event Management, read the data before each.

The DAG is scheduled on an Airflow asset with an ``AssetWatcher``: the triggerer polls Event
Management once a minute (``MdspNewEventsTrigger``) and every poll that finds new alarms starts
this DAG, with those alarms in the run's ``triggering_asset_events`` (one batch per poll; Airflow
may put several batches into one run). No alarm is handled twice, also after a triggerer restart.

1. ``alarms`` lists the alarms the run is for. A manual run (no triggering events) takes the
   alarms of the 48 hours before the run instead, so it can be tried at any time (against the
   emulator that is at least yesterday's; a run with no alarm skips the other tasks);
2. ``read_before_alarm`` reads each alarmed pump's ``PumpData`` in the 30 minutes up to its alarm,
   one JSON Lines file per alarm (mapped; each map index is labelled with the pump's name and the
   time);
3. ``summary`` writes ``alarms.json`` next to them: each alarm with the records read and the
   highest temperature before it.

Against the local emulator the alarm type is ``demo.PumpAlarm``; the emulator holds one at 12:00
UTC on each of the last three days, and ``MdspCreateEventOperator`` (or the client's
``create_event``) adds more. For a real tenant, change ``ALARM_TYPE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_mdsp.operators.shared_output import OUTPUT_DIR_TEMPLATE, require_shared_output
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator
from airflow_provider_mdsp.triggers.watchers import MdspNewEventsTrigger

ALARM_TYPE = "demo.PumpAlarm"
#: Minutes of data read before each alarm.
BEFORE_MINUTES = 30
#: Alarms a manual run handles: those of this long before the run.
MANUAL_LOOKBACK = timedelta(hours=48)
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/{{ run_id | replace(':', '_') }}"

NEW_ALARMS = Asset(
    "mdsp_new_pump_alarms",
    watchers=[AssetWatcher(name="new_pump_alarms", trigger=MdspNewEventsTrigger(type_id=ALARM_TYPE, poll_interval=60))],
)

with DAG(
    dag_id="mdsp_on_new_alarm",
    description="Run when new pump alarms appear; read the half hour before each",
    doc_md=__doc__,
    schedule=[NEW_ALARMS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["mdsp", "example", "events", "event-driven"],
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:

    @task
    def alarms(**context) -> list[dict]:
        """Return the alarms of this run: from the watcher, or for a manual run those of the last 48 hours."""
        from airflow_provider_mdsp.triggers.watch_state import watcher_payloads

        batches = watcher_payloads(context.get("triggering_asset_events"))
        if batches:
            return [event for batch in batches for event in batch["events"]]
        from airflow_provider_mdsp.hooks.mdsp import MdspHook

        end = context["dag_run"].run_after or datetime.now(timezone.utc)
        stamp = "%Y-%m-%dT%H:%M:%S.000Z"
        window = f"[{(end - MANUAL_LOOKBACK).strftime(stamp)}, {end.strftime(stamp)})"
        found = MdspHook().client.events.iter_events(filter={"typeId": ALARM_TYPE, "timestamp": {"between": window}})
        return list(found)

    @task
    def read_windows(events: list[dict]) -> list[dict]:
        """Return one read window per alarm: its pump (id and name), the 30 minutes up to the alarm."""
        from airflow_provider_mdsp.operators.assets import asset_names

        names = asset_names(event["entityId"] for event in events)
        windows = []
        for event in events:
            moment = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
            windows.append(
                {
                    "asset_id": event["entityId"],
                    "asset_name": names[event["entityId"]],
                    "from_time": (moment - timedelta(minutes=BEFORE_MINUTES)).isoformat(),
                    "to_time": moment.isoformat(),
                }
            )
        return windows

    found = alarms()
    read_before_alarm = MdspReadTimeSeriesOperator.partial(
        task_id="read_before_alarm",
        aspect="PumpData",
        output_path=OUTPUT_DIR + "/before-{{ ti.map_index }}.jsonl",
        map_index_template="{{ task.asset_name }} up to {{ task.to_time }}",
    ).expand_kwargs(read_windows(found))

    @task
    def summary(events: list[dict], reads: list[dict], **context) -> dict:
        """Write ``alarms.json``: each alarm, the records read before it and the highest temperature."""
        import json

        from airflow.sdk import ObjectStoragePath

        rows = []
        for event, read in zip(events, reads, strict=True):
            hottest = None
            with ObjectStoragePath(read["path"]).open("r") as handle:
                for line in handle:
                    value = json.loads(line).get("Temperature")
                    if isinstance(value, (int, float)):
                        hottest = value if hottest is None else max(hottest, value)
            rows.append(
                {
                    "event_id": event["id"],
                    "asset_id": event["entityId"],
                    "time": event["timestamp"],
                    "records": read["records"],
                    "max_temperature": hottest,
                }
            )
        if not reads:
            return {"alarms": 0, "path": None}
        target = ObjectStoragePath(reads[0]["path"]).parent / "alarms.json"
        target.write_text(json.dumps(rows, indent=1))
        return {"alarms": len(rows), "path": str(target)}

    summary(found, read_before_alarm.output)
