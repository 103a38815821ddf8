"""OpenLineage: a read task and an upload task report their input and output datasets.

``airflow dags test`` runs ``tests/dags/mdsp_read_then_upload.py`` against the emulator with the
OpenLineage provider configured to write its events to a file; the test reads the COMPLETE events.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.airflow_home import AIRFLOW, ROOT, airflow_env, migrated_database

pytest.importorskip("airflow.providers.openlineage", reason="the OpenLineage provider is a dev dependency")
pytestmark = [pytest.mark.dag, pytest.mark.integration]

DAG_ID = "mdsp_read_then_upload"


def completed(events_file: Path) -> dict[str, dict[str, Any]]:
    """Return the COMPLETE event of each task, by task id."""
    found = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        job = event.get("job", {}).get("name", "")
        if event.get("eventType") == "COMPLETE" and job.startswith(f"{DAG_ID}."):
            found[job.split(".", 1)[1]] = event
    return found


def datasets(event: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event.get(kind, [])]


def test_read_and_upload_tasks_report_their_inputs_and_outputs(mdsp_emulator: Any, tmp_path: Path) -> None:
    pump = mdsp_emulator.demo_assets()["Pump-A1-2"]
    events_file, output = tmp_path / "openlineage.jsonl", tmp_path / "output"
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    env = airflow_env(
        tmp_path / "home",
        mdsp_emulator.url,
        ROOT / "tests" / "dags",
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(transport),
        AIRFLOW__OPENLINEAGE__NAMESPACE="mdsp-test",
        MDSP_TEST_PUMP=pump,
        MDSP_OUTPUT_DIR=str(output),
    )
    migrated_database(tmp_path / "home", env)
    cmd = [str(AIRFLOW), "dags", "test", DAG_ID, "2026-11-01T06:00:00+00:00"]
    cmd += ["--dagfile-path", str(ROOT / "tests" / "dags" / f"{DAG_ID}.py")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:]

    tasks = completed(events_file)
    host = mdsp_emulator.url.split("://", 1)[1]
    data_file = output / "20261101T060000" / "pump.jsonl"
    assert data_file.exists()
    aspect = ("mdsp://" + host, f"{pump}/PumpData")
    uploaded = ("mdsp://" + host, f"{pump}/files/lineage/20261101T060000.jsonl")
    assert datasets(tasks["read"], "inputs") == [aspect]
    assert datasets(tasks["read"], "outputs") == [("file", str(data_file))]
    assert datasets(tasks["upload"], "inputs") == [("file", str(data_file))]
    assert datasets(tasks["upload"], "outputs") == [uploaded]
