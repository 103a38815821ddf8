"""A throwaway Airflow home for tests that run Airflow's own commands and processes against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import emulator_conn_json

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_env(home: Path, emulator_url: str, dags: Path, **settings: str) -> dict[str, str]:
    """Return the environment of Airflow commands: ``home``, the DAGs in ``dags``, ``mdsp_default`` on the emulator.

    :param settings: more variables, e.g. ``AIRFLOW__CORE__EXECUTOR="LocalExecutor"``.
    """
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".cache" / "pycache"))
    env.update(
        {
            "PATH": f"{AIRFLOW.parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # One key for every process: a home without airflow.cfg would give each its own, and the
            # triggerer could not decrypt the trigger arguments the dag-processor stored.
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW_CONN_MDSP_DEFAULT": emulator_conn_json(emulator_url),
            **settings,
        }
    )
    return env


def migrated_database(home: Path, env: dict[str, str]) -> Path:
    """Give ``home`` a migrated SQLite database (a copy of the example-DAG runner's cached one if there is one)."""
    from importlib.metadata import version

    home.mkdir(parents=True, exist_ok=True)
    cached = ROOT / ".demo" / f"airflow-{version('apache-airflow')}.db"
    if cached.exists():
        shutil.copyfile(cached, home / "airflow.db")
    else:
        subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return home / "airflow.db"
