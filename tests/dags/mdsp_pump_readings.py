"""Read every pump's process values for the run's window, in parallel, into JSON Lines files, then summarise.

What it shows: ``MdspListAssetsOperator`` finds the pumps, the time-series read is mapped over them
(one task per pump, ``.expand_kwargs(… .map(read_kwargs))``, labelled by the pump's name) and
streams each pump's records to ``$MDSP_OUTPUT_DIR/<date>/<asset id>.jsonl``; the service's hourly
aggregates are read the same way; a last task reads the files back and summarises them. XCom only
ever holds ids, names, counts, paths.

Run it against the local emulator::

    mdsp-emulator --port 8080 &                 # or: python -m airflow_provider_mdsp.emulator
    export AIRFLOW_CONN_MDSP_DEFAULT='{"conn_type": "mdsp", "host": "http://127.0.0.1:8080",
        "login": "demo-techuser", "password": "demo-secret",
        "extra": {"tenant": "demo", "auth_url": "http://127.0.0.1:8080/oauth/token"}}'
    export AIRFLOW__CORE__DAGS_FOLDER=$PWD/tests/dags MDSP_OUTPUT_DIR=/tmp/mdsp-output
    airflow db migrate && airflow dags test mdsp_pump_readings 2026-05-01T06:00:00+00:00

The schedule gives each run the six hours before its time as its data interval, which the operators
read by default (a plain cron schedule would give an empty interval in Airflow 3).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, ObjectStoragePath, task
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator
from airflow_provider_mdsp.operators.assets import MdspListAssetsOperator, read_kwargs
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

OUTPUT = "file://" + os.environ.get("MDSP_OUTPUT_DIR", "/tmp/mdsp-output")
HOT = 80.0  # °C: above this a pump is overheating

with DAG(
    dag_id="mdsp_pump_readings",
    schedule=CronTriggerTimetable("0 */6 * * *", timezone="UTC", interval=timedelta(hours=6)),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["mdsp", "example"],
) as dag:
    pumps = MdspListAssetsOperator(
        task_id="list_pumps", type_id="demo.Pump", fields=["assetId", "name"], sort="name,asc"
    )

    @task
    def pump_ids(listing: dict) -> list[str]:
        """Turn the listing into the ids to map over."""
        return [asset["assetId"] for asset in listing["data"]]

    ids = pump_ids(pumps.output)

    @task
    def listed(listing: dict) -> list[dict]:
        """Return the listed pumps, ``{"assetId", "name"}`` each."""
        return list(listing["data"])

    readings = MdspReadTimeSeriesOperator.partial(
        task_id="read_pump",
        aspect="PumpData",
        variables=["FlowRate", "Temperature"],
        output_path=OUTPUT + "/{{ ds }}/{{ task.asset_id }}.jsonl",
        map_index_template="{{ task.asset_name }}",
    ).expand_kwargs(listed(pumps.output).map(read_kwargs))

    hourly = MdspReadAggregatesOperator.partial(
        task_id="hourly_aggregates",
        aspect="PumpData",
        interval_unit="hour",
        interval_value=1,
        variables="Temperature",
    ).expand(asset_id=ids)

    @task
    def summarise(reads: list[dict], aggregates: list[dict]) -> dict:
        """Read the files back (one line at a time) and report per pump: records, peak temperature."""
        pumps: dict[str, dict] = {}
        for summary in reads:
            peak = None
            with ObjectStoragePath(summary["path"]).open("r") as lines:
                for line in lines:
                    temperature = json.loads(line).get("Temperature")
                    if temperature is not None and (peak is None or temperature > peak):
                        peak = temperature
            pumps[summary["asset_id"]] = {"records": summary["records"], "peak_temperature": peak}
        for summary in aggregates:
            pumps[summary["asset_id"]]["hours"] = summary["records"]
        return {
            "pumps": len(pumps),
            "records": sum(p["records"] for p in pumps.values()),
            "overheating": sorted(a for a, p in pumps.items() if (p["peak_temperature"] or 0) > HOT),
            "by_pump": pumps,
        }

    summarise(readings.output, hourly.output)


if __name__ == "__main__":
    dag.test()
