"""One DAG, run twice through real Airflow against the emulator: deferrable mode, then poke mode.

Both runs wait for a bulk import job and for an event that appears only after the sensor has
searched twice in vain. The deferrable run must really defer (its triggers run in Airflow's in-process
triggerer) and resume; the poke run must not; both must push the same XCom values.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.triggers.base import MdspPollingTrigger
from tests.sensors import wait_modes_dag
from tests.sensors.wait_modes_dag import SOURCE

pytestmark = [pytest.mark.dag, pytest.mark.integration]

EVENTS_SEARCH = "GET /api/eventmanagement/v3/events"


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


#: Records to import: hours old (TS Bulk wants records at least 30 min old), within one day.
ANCHOR = hour_floor(datetime.now(timezone.utc)) - timedelta(hours=3)
RECORDS = [
    {"_time": (ANCHOR + timedelta(minutes=m)).isoformat().replace("+00:00", "Z"), "FlowRate": 100.0 + m}
    for m in range(3)
]


def create_event_after_two_searches(emu: Any, pump: str, stop: threading.Event) -> threading.Thread:
    """Create the awaited event once the sensor has searched twice without it (so it really waits)."""
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    def run() -> None:
        while emu.stats()["calls"].get(EVENTS_SEARCH, 0) < 2:
            if stop.wait(0.05):
                return
        event = {"entityId": pump, "timestamp": ANCHOR + timedelta(minutes=5), "severity": 2, "source": SOURCE}
        MdspHook().client.events.create_event({**event, "description": "pump stopped"})

    thread = threading.Thread(target=run, daemon=True, name="create-event")
    thread.start()
    return thread


def run_once(emu: Any, tmp_path: Any, *, deferrable: bool, triggers_run: list[str]) -> dict[str, Any]:
    """Reset the emulator, run the DAG with ``dag.test()`` and return the XCom values and event details."""
    from airflow.configuration import conf
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    emu.reset()
    pump = emu.demo_assets()["Pump-A1-1"]
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps(RECORDS))
    spec = {
        "pump": pump,
        "records_file": str(records_file),
        "from": RECORDS[0]["_time"],
        "to": RECORDS[-1]["_time"],
        "after": ANCHOR.isoformat(),
        "deferrable": deferrable,
    }
    os.environ[wait_modes_dag.ENV] = json.dumps(spec)
    dags_folder = conf.get("core", "dags_folder")
    dag_file = os.path.join(dags_folder, f"{wait_modes_dag.DAG_ID}.py")
    os.makedirs(dags_folder, exist_ok=True)
    with open(dag_file, "w") as handle:  # dag.test() serialises the DAG by parsing the DAGs folder
        handle.write(wait_modes_dag.DAG_FILE)
    dag = wait_modes_dag.build_dag()
    stop = threading.Event()
    creator = create_event_after_two_searches(emu, pump, stop)
    try:
        run = dag.test(logical_date=datetime.now(timezone.utc))
    finally:
        stop.set()
        creator.join(10)
        os.remove(dag_file)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.run_id == run.run_id, XComModel.dag_id == dag.dag_id).all()
        xcoms = {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}
    searches = emu.stats()["calls"].get(EVENTS_SEARCH, 0)
    found = xcoms[("wait_event", "return_value")]
    client = MdspHook().client
    events = [client.events.get_event(i) for i in found["event_ids"]]
    imported = list(
        client.timeseries.iter_timeseries(
            pump, "PumpData", from_=ANCHOR - timedelta(milliseconds=1), to=ANCHOR + timedelta(minutes=2)
        )
    )
    return {
        "states": states,
        "xcoms": xcoms,
        "events": events,
        "imported": [(r["_time"], r.get("FlowRate")) for r in imported],
        "triggers": list(triggers_run),
        "searches": searches,
    }


def normalise(result: dict[str, Any]) -> dict[str, Any]:
    """Drop what the service assigns anew on every run (job and event ids, job times)."""
    imported = dict(result["xcoms"][("import", "return_value")])
    waited = dict(result["xcoms"][("wait_event", "return_value")])
    return {
        "import": {k: v for k, v in imported.items() if k not in ("job_id", "startTime", "lastModified")},
        "import_keys": sorted(imported),
        "wait_event": {k: v for k, v in waited.items() if k != "event_ids"},
        "events": [
            {k: e.get(k) for k in ("entityId", "timestamp", "severity", "source", "description")}
            for e in result["events"]
        ],
    }


def test_deferrable_and_poke_modes_wait_alike_and_push_the_same_xcom(emulator, airflow_db, tmp_path, monkeypatch):
    triggers_run: list[str] = []
    original = MdspPollingTrigger.run

    def spy(self):  # record which trigger classes Airflow's in-process triggerer ran
        triggers_run.append(type(self).__name__)
        return original(self)

    monkeypatch.setattr(MdspPollingTrigger, "run", spy)
    monkeypatch.setenv(wait_modes_dag.ENV, "{}")  # restored after the test
    deferred = run_once(emulator, tmp_path, deferrable=True, triggers_run=triggers_run)
    triggers_run.clear()
    poked = run_once(emulator, tmp_path, deferrable=False, triggers_run=triggers_run)

    assert deferred["states"] == poked["states"] == {"upload": "success", "import": "success", "wait_event": "success"}
    # Deferrable: both waits went to the triggerer and resumed in the worker; poke: neither did.
    assert sorted(deferred["triggers"]) == ["MdspBulkImportJobTrigger", "MdspEventTrigger"]
    assert poked["triggers"] == []
    # Both really waited: the event appeared only after two searches had found nothing.
    assert deferred["searches"] >= 3
    assert poked["searches"] >= 3
    # The job id was in XCom before the wait, and the results are the same in both modes.
    for result in (deferred, poked):
        assert result["xcoms"][("import", "job_id")] == result["xcoms"][("import", "return_value")]["job_id"]
    assert normalise(deferred) == normalise(poked)
    assert normalise(deferred)["import"] == {"status": "SUCCESS", "message": None}
    expected = [(r["_time"].replace(":00Z", ":00.000Z"), r["FlowRate"]) for r in RECORDS]
    assert deferred["imported"] == poked["imported"] == expected  # the job really wrote the records
    assert normalise(deferred)["wait_event"] == {
        "count": 1,
        "first_time": (ANCHOR + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "last_time": (ANCHOR + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "truncated": False,
    }
