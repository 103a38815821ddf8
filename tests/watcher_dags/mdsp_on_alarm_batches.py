"""Test DAG of the watcher test: one run per batch of new pump alarms (the consumer does nothing else).

An ``EmptyOperator`` is marked done by the scheduler itself, so the test needs no API server or
worker: only the dag-processor, the scheduler and the triggerer.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Asset, AssetWatcher

from airflow_provider_mdsp.triggers.watchers import MdspNewEventsTrigger

ALARMS = Asset(
    "mdsp_test_pump_alarms",
    watchers=[
        AssetWatcher(
            name="pump_alarms",
            trigger=MdspNewEventsTrigger(
                type_id="demo.PumpAlarm", poll_interval=float(os.environ.get("MDSP_WATCH_POLL_SECONDS", "2"))
            ),
        )
    ],
)

with DAG(
    dag_id="mdsp_on_alarm_batches",
    schedule=[ALARMS],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    EmptyOperator(task_id="handle_alarms")
