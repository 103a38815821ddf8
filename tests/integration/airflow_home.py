"""A throwaway Airflow home for tests that run Airflow's own commands and processes against the emulator.

The environment and the migrated database come from the example-DAG runner
(``scripts/run_example_dags.py``), which also caches the migrated SQLite file per Airflow version.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"
#: Longest wait for any one step (Airflow's processes start in ~10 s each here).
STEP_TIMEOUT = 120.0
#: Settings of a quick local scheduler: the LocalExecutor, a 1 s heartbeat, DAG files re-read every 5 s.
QUICK_SCHEDULER = {
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
}


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


class Processes:
    """Airflow processes, each in its own process group with its own log, stopped on exit."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, {}

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(AIRFLOW), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running[name] = proc

    def stop(self, name: str) -> None:
        stop_group(self.running.pop(name), 8)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def tails(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-25:])
            for p in sorted(self.logs.glob("*.log"))
        )


def wait_for(what: str, check: Callable[[], Any], procs: Processes, timeout: float = STEP_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    print(f"{time.strftime('%X')} waiting for {what}")
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}\n{procs.tails()}")


def query(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # table not there yet, or locked for a moment
            return []


@contextlib.contextmanager
def airflow_running(home: Path, env: dict[str, str], logs: Path, *components: str) -> Iterator[Processes]:
    """Give ``home`` a migrated database, start Airflow's ``components`` (e.g. ``scheduler``), stop them on exit."""
    procs = Processes(env, logs)
    migrated_database(home, env)
    try:
        for component in components:
            procs.start(component, component)
        yield procs
    finally:
        procs.stop_all()
