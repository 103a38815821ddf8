"""An upload starts its consumer (``mdsp_files_and_bulk_import`` -> ``mdsp_on_uploaded_readings``), through a scheduler.

The two example DAGs run against their own emulator with Airflow's dag-processor and scheduler
(LocalExecutor). The producer runs once (``airflow dags test``, its day the runner's default);
its upload records one event on the asset ``mdsp_imported_readings``; the scheduler starts exactly
one run of the consumer, which takes the file, ETag, record count and time range from that event,
downloads that version and writes its summary. The asset stays one active asset: no Airflow asset
per uploaded file is created. Bounded: about a minute and a half here, every wait has a deadline.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.airflow_home import (
    AIRFLOW,
    QUICK_SCHEDULER,
    ROOT,
    Processes,
    _runner,
    airflow_env,
    airflow_running,
    query,
    wait_for,
)

pytestmark = [pytest.mark.dag, pytest.mark.integration]

PRODUCER, CONSUMER = "mdsp_files_and_bulk_import", "mdsp_on_uploaded_readings"
ASSET = "mdsp_imported_readings"


@pytest.fixture
def airflow_with_both_dags(tmp_path: Path) -> Iterator[tuple[Processes, Path, dict[str, str]]]:
    from airflow_provider_mdsp.emulator import run_emulator

    dags = tmp_path / "dags"
    dags.mkdir()
    for dag_id in (PRODUCER, CONSUMER):
        (dags / f"{dag_id}.py").symlink_to(ROOT / "example_dags" / f"{dag_id}.py")
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "logs").mkdir()
    # An emulator of its own: the producer imports readings into a demo pump other tests read.
    # The runner's policy: no task retries, so a failure shows at once.
    (home / "config").mkdir()
    (home / "config" / "airflow_local_settings.py").write_text(_runner().LOCAL_SETTINGS)
    port = _free_port()
    with run_emulator() as emulator:
        env = airflow_env(
            home,
            emulator.url,
            dags,
            **QUICK_SCHEDULER,
            # The consumer's tasks run on the LocalExecutor and talk to the API server's execution API.
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        )
        with airflow_running(home, env, tmp_path / "logs", "api-server", "dag-processor", "scheduler") as procs:
            wait_for("the API server", lambda: _answers(f"http://127.0.0.1:{port}/api/v2/version"), procs)
            yield procs, home / "airflow.db", env


def test_an_upload_starts_one_consumer_run_that_fetches_the_version_its_event_names(
    airflow_with_both_dags: tuple[Processes, Path, dict[str, str]],
) -> None:
    procs, db, env = airflow_with_both_dags
    parsed = f"SELECT dag_id FROM dag WHERE dag_id IN ('{PRODUCER}', '{CONSUMER}')"  # noqa: S608
    wait_for("the DAG processor to parse both DAGs", lambda: len(query(db, parsed)) == 2, procs)
    # Only the consumer is unpaused: the producer runs once, below, not on its own schedule too.
    subprocess.run([str(AIRFLOW), "dags", "unpause", CONSUMER], env=env, check=True, capture_output=True)

    day = _runner().default_logical_date()
    log = db.parent.parent / "logs" / "producer.log"
    with log.open("ab") as out:
        subprocess.run(
            [str(AIRFLOW), "dags", "test", PRODUCER, day.isoformat()],
            env=env,
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    (event,) = [json.loads(extra) for (extra,) in query(db, _events_of(ASSET))]
    assert event["path"].startswith("imports/")
    assert event["records"] == 96
    assert {"entity_id", "etag", "size", "first_time", "last_time", "from", "to"} <= set(event)

    def consumer_runs() -> list[tuple[str, str, str]] | None:
        rows = query(db, f"SELECT run_id, run_type, state FROM dag_run WHERE dag_id = '{CONSUMER}'")  # noqa: S608
        return rows if rows and all(state in ("success", "failed") for _, _, state in rows) else None

    runs = wait_for("the consumer run the upload started", consumer_runs, procs, timeout=180)
    assert [(run_type, state) for _, run_type, state in runs] == [("asset_triggered", "success")], procs.tails()

    summary = json.loads(next((db.parent / "output" / CONSUMER).rglob("summary.json")).read_text())
    (got,) = summary["files"]
    assert got["source"] == "asset event"
    assert (got["path"], str(got["etag"]), got["records"]) == (event["path"], str(event["etag"]), event["records"])
    assert (got["first_time"], got["last_time"], got["from"], got["to"]) == (
        event["first_time"],
        event["last_time"],
        event["from"],
        event["to"],
    )
    # One stable, active Airflow asset, and none per uploaded file.
    assert query(db, f"SELECT name FROM asset_active WHERE name = '{ASSET}'") == [(ASSET,)]  # noqa: S608
    assert [uri for (uri,) in query(db, "SELECT uri FROM asset") if "/files/" in uri] == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def _events_of(asset_name: str) -> str:
    return (
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "  # noqa: S608
        f"WHERE a.name = '{asset_name}' ORDER BY e.id"
    )
