"""Shared fixtures for tests that run against the local emulator and through real Airflow.

Import them into another test package's conftest (``from tests.integration.conftest import …``):

- ``mdsp_emulator``: the emulator on a free loopback port (thread mode), one per test session;
- ``emulator_connection``: ``mdsp_default`` pointing at it (the demo technical user, tenant ``demo``);
- ``airflow_dags``: a migrated SQLite metadata database and ``tests/dags`` as the DAGs folder, so
  ``dag.test()`` runs real task instances (mark such tests ``@pytest.mark.dag``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.processes import load_module

DAGS_FOLDER = Path(__file__).resolve().parent.parent / "dags"
DEMO_CLIENT_ID = "demo-techuser"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_TENANT = "demo"


@pytest.fixture(scope="session")
def mdsp_emulator() -> Iterator[Any]:
    """Run the emulator for the whole session (thread mode: starts in well under a second)."""
    from airflow_provider_mdsp.emulator import run_emulator

    with run_emulator() as emulator:
        yield emulator


def emulator_conn_json(url: str) -> str:
    """Return the ``AIRFLOW_CONN_…`` JSON of a connection to the emulator at ``url``."""
    return json.dumps(
        {
            "conn_type": "mdsp",
            "host": url,
            "login": DEMO_CLIENT_ID,
            "password": DEMO_CLIENT_SECRET,
            "extra": {"tenant": DEMO_TENANT, "auth_url": f"{url}/oauth/token"},
        }
    )


@pytest.fixture
def emulator_connection(mdsp_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point ``mdsp_default`` at the session's emulator; return the emulator handle."""
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_conn_json(mdsp_emulator.url))
    monkeypatch.setenv("MDSP_GATEWAY", mdsp_emulator.url)
    return mdsp_emulator


@pytest.fixture(scope="session")
def _airflow_metadata_db() -> Path:
    """Create the SQLite metadata database once per session (about 3 s) in the test AIRFLOW_HOME."""
    from airflow.utils import db

    db.initdb()
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def airflow_dags(
    _airflow_metadata_db: Path, emulator_connection: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Any:
    """Make ``tests/dags`` the DAGs folder of a migrated Airflow and return a :class:`DagRunner`."""
    import airflow.settings

    bundle = [
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(DAGS_FOLDER)},
        }
    ]
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundle))
    # Consumers of assets must be unpaused for an asset event to queue them, as in a live deployment.
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    monkeypatch.setattr(airflow.settings, "DAGS_FOLDER", str(DAGS_FOLDER))
    monkeypatch.setenv("MDSP_OUTPUT_DIR", str(tmp_path / "output"))
    return DagRunner(tmp_path / "output")


class DagRunner:
    """Load DAG files from ``tests/dags`` and run them with ``dag.test()``.

    :param output_dir: where the DAGs write their files in this test (``MDSP_OUTPUT_DIR``).
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir

    def load(self, file_name: str, dag_id: str) -> Any:
        """Import a DAG file freshly (so it sees this test's environment) and return one of its DAGs."""
        path = DAGS_FOLDER / file_name
        return _find_dag(load_module(f"mdsp_test_dag_{path.stem}", path), dag_id)

    def run(self, file_name: str, dag_id: str, **test_kwargs: Any) -> Any:
        """Run a DAG of a file through ``dag.test()`` and return the finished DagRun."""
        return self.load(file_name, dag_id).test(**test_kwargs)


def _find_dag(module: Any, dag_id: str) -> Any:
    from airflow.sdk import DAG

    for value in vars(module).values():
        if isinstance(value, DAG) and value.dag_id == dag_id:
            return value
    raise LookupError(f"No DAG {dag_id!r} in {module.__file__}")


def xcom_values(dag_run: Any, task_id: str) -> list[Any]:
    """Return the ``return_value`` XComs of a task in a run, ordered by map index."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel)
            .where(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
            .where(XComModel.task_id == task_id, XComModel.key == "return_value")
            .order_by(XComModel.map_index)
        ).all()
        return [XComModel.deserialize_value(row) for row in rows]


def task_states(dag_run: Any) -> dict[tuple[str, int], str]:
    """Return ``{(task_id, map_index): state}`` of a finished run."""
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in dag_run.get_task_instances()}
