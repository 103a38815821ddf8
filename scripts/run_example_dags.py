"""Run every example DAG with ``airflow dags test`` against the local Insights Hub emulator.

    .venv/bin/python scripts/run_example_dags.py [--only DAG_ID] [--keep]

Starts the emulator on a free loopback port, prepares a throwaway AIRFLOW_HOME under ``.demo/``
with its SQLite database, points the ``mdsp_default`` connection at the emulator, and runs each
DAG of ``example_dags/`` for a logical date inside the emulator's generated data. Exits non-zero
when any DAG run fails; the emulator is stopped in every case. Each DAG's Airflow output goes to
``.demo/logs/<dag id>.log`` (its tail is printed on failure). A cluster policy in the throwaway
home turns the DAGs' task retries off, so a failure shows at once.

``scripts/demo.py`` reuses the helpers below for the main DAG.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"
DEMO_DIR = ROOT / ".demo"
LOG_DIR = DEMO_DIR / "logs"
BIN = Path(sys.executable).parent

#: Longest an Airflow command may run before it is killed (a DAG run takes 15–30 s here).
COMMAND_TIMEOUT_S = 600.0
#: Cluster policy of the throwaway Airflow home: a failing task fails the run at once instead of
#: waiting out the example DAGs' production retries (2 tries, 5 minutes apart).
LOCAL_SETTINGS = '''"""Cluster policy of the example-DAG runner: no retries, so a failure shows at once."""


def task_policy(task):
    task.retries = 0
'''

#: The emulator's demo tenant and its technical user (docs/emulator.md).
DEMO_TENANT = "demo"
DEMO_CLIENT_ID = "demo-techuser"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the emulator's public demo credential


def default_logical_date(now: datetime | None = None) -> datetime:
    """Return the start of yesterday (UTC): its daily data interval is the day before yesterday.

    The emulator generates the last 31 days up to now; a day that ended at least 24 h ago is
    complete, and old enough for TS Bulk imports (records must be 30 min old).

    :param now: the current time (tests pass a fixed one).
    """
    now = now or datetime.now(timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


#: Example DAGs scheduled on an asset another example DAG updates, with that producer. Their
#: manual run takes the producer's latest output, so they run after it (here and on the cluster).
CONSUMERS = {"mdsp_on_uploaded_readings": "mdsp_files_and_bulk_import"}


def example_dag_ids() -> list[str]:
    """Return the ids of the example DAGs, producers before their consumers (:data:`CONSUMERS`).

    Each file in ``example_dags/`` holds the DAG named like it.
    """
    found = sorted(p.stem for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
    return [d for d in found if d not in CONSUMERS] + [d for d in found if d in CONSUMERS]


def connection_json(emulator_url: str) -> str:
    """Return the ``AIRFLOW_CONN_MDSP_DEFAULT`` JSON for the emulator's demo technical user.

    :param emulator_url: the emulator's base URL; the token URL is derived from it (same host).
    """
    return json.dumps(
        {
            "conn_type": "mdsp",
            "host": emulator_url,
            "login": DEMO_CLIENT_ID,
            "password": DEMO_CLIENT_SECRET,
            "extra": {"auth_type": "tenant_credentials", "tenant": DEMO_TENANT},
        }
    )


def airflow_env(home: Path, emulator_url: str, output_dir: Path) -> dict[str, str]:
    """Return the environment for Airflow commands: throwaway home, example DAGs, emulator connection.

    :param home: the AIRFLOW_HOME.
    :param emulator_url: the emulator's base URL.
    :param output_dir: where the DAGs write their files (Airflow Variable ``mdsp_output_dir``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    # Compiled bytecode makes each Airflow start ~3 s faster (airflow-provider-conventions.md §4).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".cache" / "pycache"))
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_MDSP_DEFAULT": connection_json(emulator_url),
            "AIRFLOW_VAR_MDSP_OUTPUT_DIR": output_dir.as_uri(),
        }
    )
    return env


def airflow_version() -> str:
    """Return the installed Airflow version without importing Airflow (which takes seconds)."""
    from importlib.metadata import version

    return version("apache-airflow")


def prepare_database(home: Path, env: dict[str, str], log: Path) -> None:
    """Give ``home`` a migrated SQLite database, copied from a cached one when it exists.

    ``airflow db migrate`` takes ~9 s; the migrated file is kept in ``.demo/`` per Airflow version.

    :param home: the AIRFLOW_HOME.
    :param env: the Airflow environment.
    :param log: file that receives the migration output.
    """
    cached = DEMO_DIR / f"airflow-{airflow_version()}.db"
    target = home / "airflow.db"
    if not cached.exists():
        run_logged([str(BIN / "airflow"), "db", "migrate"], env, log)
        DEMO_DIR.mkdir(exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        shutil.copyfile(target, tmp)
        os.replace(tmp, cached)
    else:
        shutil.copyfile(cached, target)


def run_logged(cmd: list[str], env: dict[str, str], log: Path, *, timeout: float = COMMAND_TIMEOUT_S) -> float:
    """Run a command with its output appended to ``log``; raise with the log's tail when it fails.

    The command runs in its own process group, which is killed on timeout or interruption:
    ``airflow dags test`` ignores SIGTERM and would otherwise outlive this script.

    :param cmd: the command.
    :param env: its environment.
    :param log: the log file.
    :param timeout: seconds before the command is killed.
    :return: seconds it took.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CommandFailed(cmd, f"was killed after {timeout:.0f} s", log) from None
        except BaseException:
            _kill_group(proc)
            raise
    if code != 0:
        raise CommandFailed(cmd, f"exited {code}", log)
    return time.monotonic() - start


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class CommandFailed(RuntimeError):
    """A command failed; the message ends with the tail of its log."""

    def __init__(self, cmd: list[str], outcome: str, log: Path) -> None:
        self.log = log
        super().__init__(f"{' '.join(cmd[:4])} {outcome}; log {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a text file (empty when it does not exist)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def dags_test(dag_id: str, logical_date: datetime, env: dict[str, str], log: Path) -> float:
    """Run ``airflow dags test`` for one example DAG; return its duration.

    :param dag_id: the DAG (its file is ``example_dags/<dag_id>.py``).
    :param logical_date: the run's logical date.
    :param env: the Airflow environment.
    :param log: the log file.
    :raises CommandFailed: the run failed.
    """
    cmd = [str(BIN / "airflow"), "dags", "test", dag_id, logical_date.isoformat()]
    cmd += ["--dagfile-path", str(DAGS_FOLDER / f"{dag_id}.py")]
    return run_logged(cmd, env, log)


# A run without a logical date, as the UI's Trigger button creates by default in Airflow 3: it has
# no data interval, and the DAGs must still work (they fall back to the day before the run).
_MANUAL_RUN = """
import sys
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test(logical_date=None)
sys.exit(0 if run.state == "success" else f"DagRun {run.run_id} ended {run.state}")
"""


def dags_test_without_logical_date(dag_id: str, env: dict[str, str], log: Path) -> float:
    """Run one example DAG the way a manual trigger without a logical date does; return its duration.

    :param dag_id: the DAG (its file is ``example_dags/<dag_id>.py``).
    :param env: the Airflow environment.
    :param log: the log file.
    :raises CommandFailed: the run failed.
    """
    cmd = [sys.executable, "-c", _MANUAL_RUN, str(DAGS_FOLDER / f"{dag_id}.py"), dag_id]
    return run_logged(cmd, env, log)


@contextmanager
def airflow_workspace(
    emulator_url: str, *, keep: bool = False, home: Path | None = None, output_dir: Path | None = None
) -> Iterator[tuple[Path, dict[str, str], Path]]:
    """Yield ``(home, env, output_dir)``: a fresh AIRFLOW_HOME with a migrated database.

    :param emulator_url: the emulator's base URL.
    :param keep: leave the home and outputs afterwards (for inspection).
    :param home: the AIRFLOW_HOME to (re)create; by default a new temporary one in ``.demo/``.
    :param output_dir: where the DAGs write files; by default ``<home>/output``.
    """
    DEMO_DIR.mkdir(exist_ok=True)
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="airflow-home-", dir=DEMO_DIR))
    else:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
    output_dir = output_dir or home / "output"
    env = airflow_env(home, emulator_url, output_dir)
    # Airflow puts $AIRFLOW_HOME/config on sys.path and imports airflow_local_settings from it.
    (home / "config").mkdir()
    (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    try:
        prepare_database(home, env, LOG_DIR / "db-migrate.log")
        yield home, env, output_dir
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the example DAGs; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="DAG_ID", action="append", help="run only this DAG (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home and output files in .demo/")
    parser.add_argument(
        "--without-logical-date",
        action="store_true",
        help="run as a manual trigger without a logical date (no data interval) instead of `airflow dags test`",
    )
    args = parser.parse_args(argv)
    dag_ids = example_dag_ids()
    unknown = sorted(set(args.only or ()) - set(dag_ids))
    if unknown:
        parser.error(f"unknown DAG id(s) {', '.join(unknown)}; example DAGs: {', '.join(dag_ids)}")
    selected = args.only or dag_ids
    sys.path.insert(0, str(ROOT))
    from airflow_provider_mdsp.emulator import run_emulator

    logical_date = default_logical_date()
    started = time.monotonic()
    failures = []
    with run_emulator(mode="process") as emulator:
        when = f"logical date {logical_date:%Y-%m-%d} (data: the day before)"
        if args.without_logical_date:
            when = "no logical date (data: the day before the run)"
        print(f"Emulator at {emulator.url}; {when}")
        with airflow_workspace(emulator.url, keep=args.keep) as (home, env, _output):
            for dag_id in selected:
                log = LOG_DIR / f"{dag_id}.log"
                log.unlink(missing_ok=True)
                try:
                    if args.without_logical_date:
                        seconds = dags_test_without_logical_date(dag_id, env, log)
                    else:
                        seconds = dags_test(dag_id, logical_date, env, log)
                except CommandFailed as exc:
                    failures.append(dag_id)
                    print(f"FAILED  {dag_id}\n{exc}")
                    continue
                print(f"ok      {dag_id}  ({seconds:.1f} s, log {log.relative_to(ROOT)})")
            if args.keep:
                print(f"Airflow home kept at {home}")
    total = time.monotonic() - started
    print(f"{len(selected) - len(failures)} of {len(selected)} example DAGs succeeded in {total:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
