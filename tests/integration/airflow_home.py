"""A throwaway Airflow home for tests that run Airflow's own commands and processes against the emulator.

The environment and the migrated database come from the example-DAG runner
(``scripts/run_example_dags.py``), which also caches the migrated SQLite file per Airflow version.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"


def _runner():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import run_example_dags
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return run_example_dags


def airflow_env(home: Path, emulator_url: str, dags: Path, **settings: str) -> dict[str, str]:
    """Return the environment of Airflow commands: ``home``, the DAGs in ``dags``, ``mdsp_default`` on the emulator.

    :param settings: more variables, e.g. ``AIRFLOW__CORE__EXECUTOR="LocalExecutor"``.
    """
    from cryptography.fernet import Fernet

    env = _runner().airflow_env(home, emulator_url, home / "output")
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            # One key for every process: a home without airflow.cfg would give each its own, and the
            # triggerer could not decrypt the trigger arguments the dag-processor stored.
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            **settings,
        }
    )
    return env


def migrated_database(home: Path, env: dict[str, str]) -> Path:
    """Give ``home`` a migrated SQLite database (the runner's cached copy) and return its path."""
    home.mkdir(parents=True, exist_ok=True)
    _runner().prepare_database(home, env, home / "db-migrate.log")
    return home / "airflow.db"
