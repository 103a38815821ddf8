"""Files and bulk import: upload a day of readings to IoT File, import them with TS Bulk, verify.

A backfill as it is done for data from an external historian. For each day (the data interval,
00:00 to 24:00 UTC; a manual run without one takes the UTC day before the run, and its files go to
that day's folder):

1. ``prepare_readings`` writes the day's readings (one record every 15 minutes) as a JSON array
   sorted by ``_time``, the file format TS Bulk imports;
2. ``upload_readings`` uploads the file to IoT File on the target asset (``MdspUploadFileOperator``,
   replacing the file of an earlier run) and records an event on the Airflow asset
   ``mdsp_imported_readings`` (the same every day) whose ``extra`` names the file version:
   ``entity_id``, ``path``, ``etag``, ``size``, ``records``, ``first_time``, ``last_time``, ``from``
   and ``to``. ``mdsp_on_uploaded_readings`` is scheduled on that asset;
3. ``wait_until_importable`` waits (deferred, in the triggerer) until 30 minutes after the day's
   end: TS Bulk imports only records at least 30 minutes old, so a run that starts at midnight, as
   the schedule does, would otherwise be refused; a later run does not wait;
4. ``bulk_import`` submits the TS Bulk import job for the asset's aspect and waits for it in the
   triggerer (``MdspBulkImportOperator``, deferrable); a job that ends in ERROR fails the task with
   the job's message;
5. ``read_back`` reads the aspect for the day into a JSON Lines file;
6. ``verify`` checks that every imported record is there with its values.

TS Bulk rules (performance assets): the files must be in IoT File on the same asset, one
asset/aspect per job, one day per job at most, and records at least 30 minutes old. Against the
local emulator the defaults target the demo pump ``Pump-B2-2``; for a real tenant set the params
``asset_id`` and ``aspect`` (and the variables written by ``prepare_readings``) to yours.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG, Asset, Param, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
from airflow_provider_mdsp.operators.shared_output import (
    DEFAULT_OUTPUT_DIR,
    OUTPUT_DIR_TEMPLATE,
    OUTPUT_DIR_VARIABLE,
    require_shared_output,
)
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

#: The emulator's demo pump ``Pump-B2-2``: its id is md5("demo/Pump-B2-2") (docs/emulator.md).
DEMO_PUMP_B2_2 = "63daa7289829c907b61876312baa80ff"
#: The day a run covers: its data interval, or for a manual run without one, the day before its run time.
RUN_DAY = "{{ (data_interval_start | default(dag_run.run_after - macros.timedelta(days=1), true)) | ds }}"
OUTPUT_DIR = OUTPUT_DIR_TEMPLATE + "/{{ dag.dag_id }}/" + RUN_DAY
#: Minutes between two readings of the imported file.
STEP_MINUTES = 15
#: TS Bulk imports records at least this many minutes old.
IMPORT_AGE_MINUTES = 30
#: The Airflow asset every upload of a readings file updates (``mdsp_on_uploaded_readings`` runs on it).
IMPORTED_READINGS = Asset("mdsp_imported_readings")

with DAG(
    dag_id="mdsp_files_and_bulk_import",
    description="Upload a JSON time-series file to IoT File, import it with TS Bulk, read it back",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["mdsp", "example", "files", "bulk"],
    params={
        "asset_id": Param(DEMO_PUMP_B2_2, type="string", description="Asset to import into"),
        "aspect": Param("PumpData", type="string", description="Aspect (property set) to import into"),
    },
    # Every task first checks that the output location works on this executor (docs/cluster.md).
    default_args={"mdsp_conn_id": "mdsp_default", "retries": 2, "pre_execute": require_shared_output},
) as dag:

    @task
    def prepare_readings(**context) -> dict:
        """Write the day's readings as a JSON array file and return where, and the import file spec."""
        import json
        from datetime import timedelta

        from airflow.sdk import ObjectStoragePath, Variable

        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        if not start or not end or start == end:
            # A manual run without a data interval imports the previous UTC day.
            end = context["dag_run"].run_after.replace(hour=0, minute=0, second=0, microsecond=0)
            start = end - timedelta(days=1)
        step = timedelta(minutes=STEP_MINUTES)
        # Half a step past each boundary, so every record lies strictly inside the interval (the
        # time-series read's `from` is exclusive) and between the minute records of the demo data.
        moment, records = start + step / 2, []
        while moment < end:
            index = len(records)
            records.append(
                {
                    "_time": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "FlowRate": round(110.0 + (index % 12) * 1.5, 3),
                    "Pressure": round(4.2 + (index % 5) * 0.05, 3),
                    "Temperature": round(52.0 + (index % 8) * 0.5, 3),
                }
            )
            moment += step
        day = start.strftime("%Y-%m-%d")
        base = ObjectStoragePath(Variable.get(OUTPUT_DIR_VARIABLE, default=DEFAULT_OUTPUT_DIR))
        source = base / context["dag"].dag_id / day / "readings.json"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(json.dumps(records))
        file_path = f"imports/{day}/readings.json"
        window = {"from": start.isoformat(), "to": end.isoformat()}
        files = [{"filePath": file_path, **window}]
        span = {"first_time": records[0]["_time"], "last_time": records[-1]["_time"]}
        importable = {"importable_after": (end + timedelta(minutes=IMPORT_AGE_MINUTES)).isoformat()}
        summary = {"path": str(source), "file_path": file_path, "files": files, "records": len(records)}
        return {**summary, **window, **span, **importable}

    prepared = prepare_readings()

    upload_readings = MdspUploadFileOperator(
        task_id="upload_readings",
        entity_id="{{ params.asset_id }}",
        file_path=prepared["file_path"],
        # The whole summary: its path is the file, its records and time range go into the asset event.
        source_path=prepared,
        content_type="application/json",
        description="Readings for a TS Bulk import",
        overwrite=True,
        airflow_asset=IMPORTED_READINGS,
    )

    wait_until_importable = DateTimeSensorAsync(
        task_id="wait_until_importable", target_time=prepared["importable_after"], timeout=3600
    )

    bulk_import = MdspBulkImportOperator(
        task_id="bulk_import",
        entity_id="{{ params.asset_id }}",
        aspect="{{ params.aspect }}",
        files=prepared["files"],
        deferrable=True,
        poll_interval=2,
        timeout=3600,
    )

    read_back = MdspReadTimeSeriesOperator(
        task_id="read_back",
        asset_id="{{ params.asset_id }}",
        aspect="{{ params.aspect }}",
        from_time=prepared["from"],
        to_time=prepared["to"],
        output_path=OUTPUT_DIR + "/read-back.jsonl",
    )

    @task
    def verify(prepared: dict, read: dict) -> dict:
        """Check that every imported record was read back with the same values."""
        import json

        from airflow.sdk import ObjectStoragePath

        imported = {r["_time"]: r for r in json.loads(ObjectStoragePath(prepared["path"]).read_text())}
        found = 0
        with ObjectStoragePath(read["path"]).open("r") as handle:
            for line in handle:
                record = json.loads(line)
                expected = imported.get(record["_time"])
                if expected is None:
                    continue
                wrong = {k: (v, record.get(k)) for k, v in expected.items() if record.get(k) != v}
                if wrong:
                    raise ValueError(f"Record {record['_time']} was read back with other values: {wrong}")
                found += 1
        if found != len(imported):
            raise ValueError(f"Only {found} of {len(imported)} imported records were read back")
        print(f"All {found} imported records were read back among {read['records']} records of the day")
        return {"imported": len(imported), "verified": found, "read": read["records"]}

    upload_readings >> wait_until_importable >> bulk_import >> read_back
    verify(prepared, read_back.output)
