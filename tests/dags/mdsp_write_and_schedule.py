"""Write time series and let Airflow's asset scheduling run the DAGs that wait for that data.

``mdsp_write_pump_data`` writes records to two pumps' ``PumpData``:

- ``write_declared`` names its asset literally and gives ``gateway_host``, so the Airflow asset
  ``mdsp://<gateway host>/<asset id>/PumpData`` is declared in its ``outlets`` at parse time;
- ``write_templated`` takes its asset id from a param, so the asset is only known at run time and is
  emitted through an ``AssetAlias``.

Either way, ``mdsp_after_<pump>`` (scheduled on that asset) is queued when the write succeeds.
``read_back`` reads the written window again. Needs ``MDSP_GATEWAY`` (the gateway URL of the
``mdsp_default`` connection, e.g. the emulator's ``http://127.0.0.1:8080``).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_mdsp.assets import timeseries_asset
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator, MdspWriteTimeSeriesOperator

GATEWAY = os.environ.get("MDSP_GATEWAY", "http://127.0.0.1:8080")


def demo_asset_id(name: str) -> str:
    """Return the emulator's id of a demo asset (md5 of ``demo/<name>``, see docs/emulator.md)."""
    return hashlib.md5(f"demo/{name}".encode(), usedforsecurity=False).hexdigest()


DECLARED_PUMP = demo_asset_id("Pump-B2-1")
TEMPLATED_PUMP = demo_asset_id("Pump-B2-2")
# Old timestamps: the demo plant generates the last 31 days; these records sit before them.
RECORDS = [
    {"_time": f"2020-01-01T00:0{i}:00.000Z", "FlowRate": 100.0 + i, "Pressure": 4.0, "Temperature": 50.0 + i}
    for i in range(1, 4)
]

with DAG(
    dag_id="mdsp_write_pump_data",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"pump": TEMPLATED_PUMP},
    tags=["mdsp", "example"],
) as dag:
    declared = MdspWriteTimeSeriesOperator(
        task_id="write_declared", asset_id=DECLARED_PUMP, aspect="PumpData", records=RECORDS, gateway_host=GATEWAY
    )
    templated = MdspWriteTimeSeriesOperator(
        task_id="write_templated", asset_id="{{ params.pump }}", aspect="PumpData", records=RECORDS
    )
    read_back = MdspReadTimeSeriesOperator(
        task_id="read_back",
        asset_id=DECLARED_PUMP,
        aspect="PumpData",
        from_time="2020-01-01T00:00:00Z",
        to_time="2020-01-01T01:00:00Z",
    )
    declared >> read_back

for pump in (DECLARED_PUMP, TEMPLATED_PUMP):
    with DAG(
        dag_id=f"mdsp_after_{pump[:8]}",
        schedule=[timeseries_asset(GATEWAY, pump, "PumpData")],
        start_date=datetime(2026, 1, 1),
        tags=["mdsp", "example"],
    ):

        @task
        def report(**context: object) -> None:
            """Log which asset events triggered this run."""
            print(context.get("triggering_asset_events"))

        report()
