"""The asset-model, subtenant and Data Lake operators through real Airflow (``dag.test()``) against an emulator.

The example DAG ``mdsp_plant_kpis_to_data_lake`` runs twice for the same day: the second run
must create nothing (no aspect type, asset aspect, import job or lake object more than the first).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.processes import load_module
from tests.integration.conftest import emulator_conn_json, task_states, xcom_values

pytestmark = [pytest.mark.dag, pytest.mark.integration]

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "mdsp_plant_kpis_to_data_lake.py"


@pytest.fixture(scope="module")
def own_emulator() -> Any:
    """An emulator of this module only: these DAGs change the demo model (a Kpi aspect on pumps)."""
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(config=demo_config().with_overrides(job_step_s=0.3)) as handle:
        yield handle


@pytest.fixture
def on_own_emulator(airflow_dags, own_emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_conn_json(own_emulator.url))
    monkeypatch.setenv("AIRFLOW_VAR_MDSP_OUTPUT_DIR", (tmp_path / "out").as_uri())
    return airflow_dags


@pytest.fixture
def example_bundle(on_own_emulator, monkeypatch):
    """Make ``example_dags`` the DAGs folder, so ``dag.test()`` finds the example DAG serialised there."""
    import airflow.settings

    folder = str(EXAMPLE.parent)
    bundle = [
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": folder},
        }
    ]
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", folder)
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundle))
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", folder)


def client_of(emulator: Any) -> Any:
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from tests.helpers.emulator import EmulatorTokens

    return MdspClient.create(ClientSettings(emulator.url), EmulatorTokens(emulator.token_url))


def lake_state(emulator: Any) -> dict[str, Any]:
    """Count what the example DAG creates: model, jobs and lake objects of each subtenant."""
    client = client_of(emulator)
    kpi_types = list(client.assets.iter_aspect_types(filter={"name": "Kpi"}))
    pump_aspects = [a["name"] for a in client.assets.get_asset_type("demo.Pump")["aspects"]]
    jobs = [(j["name"], j.get("subtenantId")) for j in client.datalake.iter_import_jobs()]
    objects = {
        sub: sorted(o["path"] for o in client.datalake.iter_objects("pump-kpis", subtenant_id=sub))
        for sub in ("demo-sub1", "demo-sub2")
    }
    return {"kpi_types": len(kpi_types), "pump_aspects": pump_aspects, "jobs": sorted(jobs), "objects": objects}


def load_example() -> Any:
    return load_module("mdsp_example_plant_kpis", EXAMPLE).dag


def test_the_example_runs_once_per_subtenant_and_a_rerun_creates_nothing(example_bundle, own_emulator):
    day = datetime.now(timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)
    first = load_example().test(logical_date=day)
    assert str(first.state) == "success", task_states(first)
    counts = xcom_values(first, "per_subtenant.check_record_count")
    assert [c["Kpi"] for c in counts] == [8, 8]
    assert all(c["PumpData"] > 0 for c in counts)
    after_first = lake_state(own_emulator)
    assert after_first["kpi_types"] == 1
    assert after_first["pump_aspects"].count("Kpi") == 1
    assert len(after_first["jobs"]) == 2
    assert {s for _n, s in after_first["jobs"]} == {"demo-sub1", "demo-sub2"}
    assert all(len(paths) == 16 for paths in after_first["objects"].values())  # 8 pumps x 2 aspects

    second = load_example().test(logical_date=day)
    assert str(second.state) == "success", task_states(second)
    assert lake_state(own_emulator) == after_first
    (ensured,) = xcom_values(second, "ensure_kpi_aspect")
    assert ensured["aspect_type"]["action"] == "unchanged"
    assert [t["action"] for t in ensured["asset_types"]] == ["unchanged"]


def test_the_tour_ensures_walks_uploads_exports_waits_and_downloads(on_own_emulator, own_emulator):
    run = on_own_emulator.run("mdsp_new_apis_tour.py", "mdsp_new_apis_tour")
    assert str(run.state) == "success", task_states(run)
    (spare,) = xcom_values(run, "ensure_spare_pump")
    assert spare["action"] in ("created", "unchanged")
    (children,) = xcom_values(run, "line_children")
    assert {c["name"] for c in children} == {"Pump-B1-1", "Pump-B1-2", "Motor-B1", "Pump-B1-9"}
    assert all(c["path"].startswith("Site-B/Line-B1/") and c["depth"] == 1 for c in children)
    (listed,) = xcom_values(run, "list_tour")
    assert [(o["path"], o["size"]) for o in listed] == [("tour/notes.txt", len("shift notes\n") * 1000)]
    (done,) = xcom_values(run, "export_done")
    assert (done["status"], done["fileCount"]) == ("SUCCESS", 1)
    (downloaded,) = xcom_values(run, "download_export")
    local = Path(downloaded["files"][0]["path"].removeprefix("file://"))
    lines = local.read_text().splitlines()
    assert len(lines) == 60
    assert json.loads(lines[0])["FlowRate"] is not None
    (created,) = xcom_values(run, "create_events")
    assert (created["created"], created["skipped"], len(created["job_ids"])) == (2, 0, 1)
    (deleted,) = xcom_values(run, "delete_alarms")
    assert deleted["state"] == "FINISHED"
    client = client_of(own_emulator)
    pump = own_emulator.demo_assets()["Pump-B1-1"]
    tour_events = list(client.events.iter_events(filter={"entityId": pump, "source": "tour"}))
    assert sorted(e["description"] for e in tour_events) == ["Tour event 1", "Tour event 2"]
    alarms = {"typeId": "demo.PumpAlarm", "timestamp": {"after": "2000-01-01T00:00:00Z"}}
    assert list(client.events.iter_events(filter=alarms)) == []
    (merged,) = xcom_values(run, "merge_flow")
    assert (merged["records"], merged["requests"]) == (1, 1)
    now = datetime.now(timezone.utc)
    recent = client.timeseries.iter_timeseries(pump, "PumpData", from_=now - timedelta(hours=2), to=now)
    (record,) = [r for r in recent if r["FlowRate"] == 2.5]
    assert record["Temperature"] is not None  # the other variables of the record stay
