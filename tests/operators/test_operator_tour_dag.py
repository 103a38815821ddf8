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

    (submitted,) = xcom_values(run, "submit_import")
    assert submitted["status"] == "SUBMITTED"
    (done,) = xcom_values(run, "import_done")
    assert (done["job_id"], done["status"]) == (submitted["job_id"], "SUCCESS")
