"""Every operator and sensor that the other DAGs here and the example DAGs do not run, in one DAG.

``mdsp_operator_tour`` reads and updates an asset, writes two assets' time series in one
multi-entity call, waits for that data with the time-series sensor, searches and downloads a file,
uploads a JSON record file, submits a bulk import of it without waiting and waits for the job with
the bulk-import sensor. Run by ``tests/operators/test_operator_tour_dag.py`` against the emulator.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_provider_mdsp.operators.assets import MdspGetAssetOperator, MdspUpdateAssetOperator
from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
from airflow_provider_mdsp.operators.files import (
    MdspDownloadFileOperator,
    MdspSearchFilesOperator,
    MdspUploadFileOperator,
)
from airflow_provider_mdsp.operators.timeseries import MdspWriteTimeSeriesMultiOperator
from airflow_provider_mdsp.sensors.bulk import MdspBulkImportJobSensor
from airflow_provider_mdsp.sensors.timeseries import MdspTimeSeriesSensor

OUTPUT = os.environ.get("MDSP_OUTPUT_DIR", "/tmp/mdsp-output")


def demo_asset_id(name: str) -> str:
    """Return the emulator's id of a demo asset (md5 of ``demo/<name>``, see docs/emulator.md)."""
    return hashlib.md5(f"demo/{name}".encode(), usedforsecurity=False).hexdigest()


PUMP, MOTOR, HOT_PUMP = demo_asset_id("Pump-B1-1"), demo_asset_id("Motor-B1"), demo_asset_id("Pump-A1-1")
# Records before the demo plant's generated month, so the sensor can only be satisfied by them.
PUMP_RECORDS = [{"_time": "2020-01-01T00:01:00.000Z", "FlowRate": 90.5, "Pressure": 4.1, "Temperature": 40.0}]
MOTOR_RECORDS = [{"_time": "2020-01-01T00:01:00.000Z", "Speed": 1450.0, "Current": 11.2, "Temperature": 45.0}]
IMPORT_RECORDS = [
    {"_time": f"2020-01-02T00:0{i}:00.000Z", "FlowRate": 80.0 + i, "Pressure": 4.0, "Temperature": 30.0 + i}
    for i in range(5)
]

with DAG(dag_id="mdsp_operator_tour", schedule=None, start_date=datetime(2026, 1, 1), tags=["mdsp", "test"]) as dag:
    get_pump = MdspGetAssetOperator(task_id="get_pump", asset_id=PUMP)
    describe = MdspUpdateAssetOperator(
        task_id="describe_pump", asset_id=PUMP, changes={"description": "Checked by the operator tour"}
    )
    write_both = MdspWriteTimeSeriesMultiOperator(
        task_id="write_both",
        items=[
            {"entityId": PUMP, "propertySetName": "PumpData", "data": PUMP_RECORDS},
            {"entityId": MOTOR, "propertySetName": "MotorData", "data": MOTOR_RECORDS},
        ],
    )
    new_data = MdspTimeSeriesSensor(
        task_id="new_pump_data",
        asset_id=PUMP,
        aspect="PumpData",
        after="2020-01-01T00:00:00Z",
        poke_interval=0.5,
        timeout=30,
        mode="poke",
        deferrable=False,
    )
    search = MdspSearchFilesOperator(task_id="search_reports", entity_id=HOT_PUMP, filter="path eq reports/")
    download = MdspDownloadFileOperator(
        task_id="download_report",
        entity_id=HOT_PUMP,
        file_path="reports/overheat.csv",
        output_path=f"file://{OUTPUT}/tour/overheat.csv",
    )

    @task
    def records_file() -> str:
        """Write the records to import as the JSON array TS Bulk reads from IoT File (§8)."""
        path = Path(OUTPUT) / "tour" / "import.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(IMPORT_RECORDS))
        return str(path)

    upload = MdspUploadFileOperator(
        task_id="upload_records",
        entity_id=PUMP,
        file_path="tour/import.json",
        local_path="{{ ti.xcom_pull(task_ids='records_file') }}",
        overwrite=True,
    )
    submit = MdspBulkImportOperator(
        task_id="submit_import",
        entity_id=PUMP,
        aspect="PumpData",
        files=[{"filePath": "tour/import.json", "from": "2020-01-02T00:00:00Z", "to": "2020-01-02T00:05:00Z"}],
        wait=False,
    )
    imported = MdspBulkImportJobSensor(
        task_id="import_done",
        job_id="{{ ti.xcom_pull(task_ids='submit_import')['job_id'] }}",
        poke_interval=0.5,
        timeout=60,
        mode="poke",
        deferrable=False,
    )

    get_pump >> describe >> write_both >> new_data
    search >> download
    records_file() >> upload >> submit >> imported
