"""The operators and sensors no other DAG test runs, through ``dag.test()`` against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import task_states, xcom_values

pytestmark = [pytest.mark.dag, pytest.mark.integration]


def test_operator_tour_runs_every_task_and_returns_small_summaries(airflow_dags, emulator_connection):
    ids = emulator_connection.demo_assets()
    run = airflow_dags.run("mdsp_operator_tour.py", "mdsp_operator_tour")
    states = task_states(run)
    assert str(run.state) == "success", states
    assert set(states.values()) == {"success"}

    (pump,) = xcom_values(run, "get_pump")
    assert (pump["assetId"], pump["name"]) == (ids["Pump-B1-1"], "Pump-B1-1")
    (described,) = xcom_values(run, "describe_pump")
    assert described["assetId"] == ids["Pump-B1-1"]
    assert int(described["etag"]) > int(pump["etag"])  # the update went through If-Match
    (written,) = xcom_values(run, "write_both")
    assert (written["errors"], written["records"]) == ([], 2)
    (seen,) = xcom_values(run, "new_pump_data")
    assert seen["first_time"] == "2020-01-01T00:01:00.000Z"  # the record written by write_both

    (found,) = xcom_values(run, "search_reports")
    assert [f["name"] for f in found["data"]] == ["overheat.csv"]
    (downloaded,) = xcom_values(run, "download_report")
    local = Path(downloaded["path"].removeprefix("file://"))
    assert local.read_text().startswith("day,start,end,peak_c")
    assert downloaded["bytes"] == local.stat().st_size

    assert file_asset_events(run, emulator_connection.url, ids["Pump-B1-1"], "tour/import.json") == ["upload_records"]

    (submitted,) = xcom_values(run, "submit_import")
    assert submitted["status"] == "SUBMITTED"
    (done,) = xcom_values(run, "import_done")
    assert (done["job_id"], done["status"]) == (submitted["job_id"], "SUCCESS")


def file_asset_events(run, gateway: str, entity_id: str, file_path: str) -> list[str]:
    """Return the tasks of ``run`` that emitted an asset event for an IoT File file."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_mdsp.assets import file_asset_uri

    with create_session() as session:
        asset = session.scalars(
            select(AssetModel.id).where(AssetModel.uri == file_asset_uri(gateway, entity_id, file_path))
        )
        events = session.scalars(
            select(AssetEvent.source_task_id).where(
                AssetEvent.asset_id == asset.one(), AssetEvent.source_run_id == run.run_id
            )
        )
        return list(events.all())
