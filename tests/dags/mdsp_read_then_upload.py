"""Read a pump's readings into a file, then upload that file to the pump: the chain a new user writes.

``source_path=read.output`` takes the read's summary as it is (its ``path``), and with the
OpenLineage provider configured each task reports its input and output datasets. The pump id comes
from ``MDSP_TEST_PUMP`` (the lineage test sets it); the window is the run's data interval.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

OUTPUT = "file://" + os.environ.get("MDSP_OUTPUT_DIR", "/tmp/mdsp-output")
PUMP = os.environ.get("MDSP_TEST_PUMP", "unknown")

with DAG(
    dag_id="mdsp_read_then_upload",
    schedule=CronTriggerTimetable("0 * * * *", timezone="UTC", interval=timedelta(hours=1)),
    start_date=datetime(2026, 1, 1),
    catchup=False,
):
    read = MdspReadTimeSeriesOperator(
        task_id="read", asset_id=PUMP, aspect="PumpData", output_path=OUTPUT + "/{{ ts_nodash }}/pump.jsonl"
    )
    MdspUploadFileOperator(
        task_id="upload",
        entity_id=PUMP,
        file_path="lineage/{{ ts_nodash }}.jsonl",
        source_path=read.output,
        overwrite=True,
    )
