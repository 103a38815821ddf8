"""Operators run for real: DAGs in tests/dags through ``dag.test()`` against the emulator."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.integration.conftest import task_states, xcom_values

pytestmark = [pytest.mark.dag, pytest.mark.integration]


def yesterday_at(hour: int) -> datetime:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1) + timedelta(hours=hour)


def test_mapped_reads_write_json_lines_per_pump_and_the_summary_finds_the_hot_pump(airflow_dags, emulator_connection):
    logical_date = yesterday_at(18)  # data interval 12:00-18:00: Pump-A1-1 overheats 12:00-12:30
    run = airflow_dags.run("mdsp_pump_readings.py", "mdsp_pump_readings", logical_date=logical_date)

    states = task_states(run)
    assert str(run.state) == "success", states
    assert len([key for key in states if key[0] == "read_pump"]) == 8
    ids = emulator_connection.demo_assets()

    reads = xcom_values(run, "read_pump")
    assert len(reads) == 8
    for summary in reads:
        assert summary["from"] == (logical_date - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert summary["records"] == 360  # one record a minute, (from, to]
        path = Path(summary["path"].removeprefix("file://"))
        assert path.parent == airflow_dags.output_dir / logical_date.strftime("%Y-%m-%d")
        lines = path.read_text().splitlines()
        assert len(lines) == 360
        assert set(json.loads(lines[0])) == {"_time", "FlowRate", "Temperature"}
        assert "data" not in summary  # records went to the file, not to XCom

    # The mapped reads are labelled in the UI by the pump names the listing gave (read_kwargs).
    labels = sorted(ti.rendered_map_index for ti in run.get_task_instances() if ti.task_id == "read_pump")
    assert labels == sorted(name for name in ids if name.startswith("Pump-"))

    hourly = xcom_values(run, "hourly_aggregates")
    assert [h["records"] for h in hourly] == [6] * 8
    (summary,) = xcom_values(run, "summarise")
    assert summary["pumps"] == 8
    assert summary["records"] == 8 * 360
    assert summary["overheating"] == [ids["Pump-A1-1"]]


def test_writes_emit_asset_events_that_queue_the_dags_scheduled_on_them(airflow_dags, emulator_connection):
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_mdsp.assets import timeseries_asset_uri

    ids = emulator_connection.demo_assets()
    declared, templated = ids["Pump-B2-1"], ids["Pump-B2-2"]
    run = airflow_dags.run("mdsp_write_and_schedule.py", "mdsp_write_pump_data")

    assert str(run.state) == "success", task_states(run)
    expected = {"aspect": "PumpData", "records": 3, "requests": 1}
    expected.update(first_time="2020-01-01T00:01:00.000Z", last_time="2020-01-01T00:03:00.000Z")
    assert xcom_values(run, "write_declared") == [{"asset_id": declared, **expected}]
    assert xcom_values(run, "write_templated") == [{"asset_id": templated, **expected}]
    (read_back,) = xcom_values(run, "read_back")
    assert [r["FlowRate"] for r in read_back["data"]] == [101.0, 102.0, 103.0]

    with create_session() as session:
        for pump, task_id in ((declared, "write_declared"), (templated, "write_templated")):
            uri = timeseries_asset_uri(emulator_connection.url, pump, "PumpData")
            asset_id = session.scalars(select(AssetModel.id).where(AssetModel.uri == uri)).one()
            event = session.scalars(
                select(AssetEvent).where(AssetEvent.asset_id == asset_id, AssetEvent.source_run_id == run.run_id)
            ).one()
            assert (event.source_task_id, event.extra["records"]) == (task_id, 3)
            # A consumer can tell what it got: the records and their time range.
            assert (event.extra["first_time"], event.extra["last_time"]) == (
                expected["first_time"],
                expected["last_time"],
            )
            queued = session.scalars(
                select(AssetDagRunQueue.target_dag_id).where(AssetDagRunQueue.asset_id == event.asset_id)
            ).all()
            assert queued == [f"mdsp_after_{pump[:8]}"]
