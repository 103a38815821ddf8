"""The asset-model and Data Lake operators the example DAG does not run, in one DAG.

``mdsp_new_apis_tour`` ensures an asset below a line (by path), lists a line's children, uploads a
file to the Data Lake and lists the folder, starts a time-series export without waiting, waits
for it with the Data Lake import-job sensor (deferrable) and downloads one exported object; it
creates events with an event job waited for in the triggerer and deletes the demo alarms with
one waited for in the worker, and merges one value into a pump's
record with a time-series PATCH. Run by
``tests/operators/test_new_apis_dags.py`` against the emulator.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_provider_mdsp.operators.datalake import (
    MdspDataLakeDownloadOperator,
    MdspDataLakeExportOperator,
    MdspDataLakeUploadOperator,
    MdspListDataLakeObjectsOperator,
)
from airflow_provider_mdsp.operators.event_jobs import MdspCreateEventsJobOperator, MdspDeleteEventsJobOperator
from airflow_provider_mdsp.operators.hierarchy import MdspEnsureAssetOperator, MdspListAssetHierarchyOperator
from airflow_provider_mdsp.operators.timeseries import MdspWriteTimeSeriesOperator
from airflow_provider_mdsp.sensors.datalake import MdspDataLakeImportJobSensor

OUTPUT = os.environ.get("MDSP_OUTPUT_DIR", "/tmp/mdsp-output")
PUMP = hashlib.md5(b"demo/Pump-B1-1", usedforsecurity=False).hexdigest()
END = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
RECENT = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
RECENT_ISO = RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z")

with DAG(dag_id="mdsp_new_apis_tour", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

    @task
    def source_file() -> str:
        path = Path(OUTPUT) / "tour" / "notes.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("shift notes\n" * 1000)
        return str(path)

    spare = MdspEnsureAssetOperator(
        task_id="ensure_spare_pump",
        name="Pump-B1-9",
        type_id="demo.Pump",
        parent_path="Site-B/Line-B1",
        fields={"description": "Spare pump"},
    )
    line_children = MdspListAssetHierarchyOperator(task_id="line_children", asset_path="Site-B/Line-B1", depth=1)
    upload = MdspDataLakeUploadOperator(task_id="upload_notes", lake_path="tour/notes.txt", local_path=source_file())
    listed = MdspListDataLakeObjectsOperator(task_id="list_tour", folder="tour")
    export = MdspDataLakeExportOperator(
        task_id="start_export",
        asset_ids=[PUMP],
        aspect_names="PumpData",
        destination="tour/export",
        from_time=(END - timedelta(hours=1)).isoformat(),
        to_time=END.isoformat(),
        wait=False,
    )
    export_done = MdspDataLakeImportJobSensor(
        task_id="export_done",
        job_id="{{ ti.xcom_pull(task_ids='start_export')['job_id'] }}",
        deferrable=True,
        poke_interval=1,
        timeout=120,
    )
    download = MdspDataLakeDownloadOperator(
        task_id="download_export",
        lake_path=f"tour/export/{PUMP}/PumpData.json",
        output_path=f"file://{OUTPUT}/tour/PumpData.jsonl",
    )
    create_events = MdspCreateEventsJobOperator(
        task_id="create_events",
        events=[
            {"entityId": PUMP, "timestamp": RECENT_ISO, "description": "Tour event 1", "source": "tour"},
            {"entityId": PUMP, "timestamp": RECENT_ISO, "description": "Tour event 2", "source": "tour"},
        ],
        poll_interval=0.5,
        deferrable=True,
    )
    delete_alarms = MdspDeleteEventsJobOperator(
        task_id="delete_alarms", filter={"typeId": "demo.PumpAlarm"}, poll_interval=0.5
    )
    merge_flow = MdspWriteTimeSeriesOperator(
        task_id="merge_flow",
        asset_id=PUMP,
        aspect="PumpData",
        records=[{"_time": RECENT_ISO, "FlowRate": 2.5}],
        merge=True,
    )
    spare >> line_children
    create_events >> delete_alarms
    upload >> listed >> export >> export_done >> download
