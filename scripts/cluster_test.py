"""The cluster test: every example DAG on a real CeleryExecutor with two workers on separate "hosts".

    .venv-cluster/bin/python scripts/cluster_test.py [--keep]

What runs, all on loopback: PostgreSQL (metadata database) and Redis (Celery broker) from Debian
packages (installed with apt-get when missing, which needs root), moto's S3 server, the Insights
Hub emulator revoking used refresh tokens, and Airflow 3.3's api-server, scheduler,
dag-processor, triggerer and two Celery workers. Each worker runs in its own mount and hostname
namespace (``unshare``) with a private ``/tmp``, as separate hosts have; where namespaces cannot
be created, each worker gets its own temporary directory instead, and the output says so.
The example DAGs' connection ``mdsp_default`` shares tokens per host (``shared_cache``).

Checks, in order:

1. every example DAG, with ``mdsp_output_dir`` on S3, succeeds, with tasks run on both workers,
   and writes under ``mdsp/<dag id>/``; a DAG that consumes another's output
   (``CONSUMERS`` of ``scripts/run_example_dags.py``) is triggered once its producer's run ended;
2. a refresh-token connection works for six rotations across the two workers (a DAG of this
   test, ``tests/cluster_dags``, alternates its tasks between the workers' queues): the rotated
   refresh token travels through the Variable ``mdsp_refresh_token_mdsp_refresh``;
3. a worker killed while a task reads is recovered by the task's retry on the other worker: the
   output is the same bytes as an undisturbed run's, and no temporary object or incomplete
   multipart upload is left in the bucket;
4. with ``mdsp_output_dir`` back on a local ``file://`` path, a run fails at its first task, not
   retried, with the documented message.

Exits non-zero when a check fails; every process it started is stopped in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.run_example_dags import CONSUMERS, default_logical_date, example_dag_ids  # noqa: E402

BIN = Path(sys.executable).parent
WORK = ROOT / ".demo" / "cluster"
BUCKET = "mdsp-cluster"
WORKERS = ("worker-a", "worker-b")
#: Seconds a check may wait for DAG runs before it fails.
RUN_TIMEOUT_S = 240.0
#: The message a local output location gets on a multi-host executor (docs/cluster.md).
LOCAL_OUTPUT_MESSAGE = "a local path, but the CeleryExecutor runs tasks on many hosts"
LOCAL_SETTINGS = '''"""Cluster-test policy: quick retries, so a killed task's retry starts within seconds."""
from datetime import timedelta


def task_policy(task):
    task.retry_delay = timedelta(seconds=2)
'''


class Failed(Exception):
    """A check failed."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Any, timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except Exception:  # not ready yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- services -----------------------------------------------------------------------------------


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def ensure_debian_packages() -> None:
    """Install PostgreSQL and Redis from Debian packages when they are missing (as root)."""
    missing = [
        pkg
        for pkg, present in (("postgresql", pg_bin("initdb")), ("redis-server", shutil.which("redis-server")))
        if not present
    ]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Failed(f"{', '.join(missing)} missing: install them (Debian: apt-get install {' '.join(missing)})")
    log(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    # Debian starts the packaged services; this test runs its own on free ports.


class Processes:
    """Start processes in their own process groups and stop every one of them at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.procs[name].pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name in list(self.procs):
            proc = self.procs[name]
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            self.kill(name)


def start_postgres(procs: Processes) -> int:
    """Start a throwaway PostgreSQL cluster on a free port with trust auth; return its port."""
    initdb, postgres = pg_bin("initdb"), pg_bin("postgres")
    assert initdb
    assert postgres
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Readable by the postgres user, which cannot enter this checkout when it is under /root.
    parent = "/var/tmp" if os.geteuid() == 0 else None  # noqa: S108
    data = Path(tempfile.mkdtemp(prefix="mdsp-cluster-pg-", dir=parent))
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [*as_postgres, initdb, "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    procs.start(
        "postgres",
        [
            *as_postgres,
            postgres,
            "-D",
            str(data / "db"),
            "-p",
            str(port),
            "-k",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
    )

    def ready() -> bool:
        return (
            subprocess.run(
                [str(Path(postgres).parent / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            ).returncode
            == 0
        )

    wait_for("PostgreSQL", ready, 30)
    subprocess.run(
        [
            str(Path(postgres).parent / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-q",
            "-c",
            "CREATE DATABASE airflow",
        ],
        check=True,
    )
    return port


def start_redis(procs: Processes) -> int:
    port = free_port()
    procs.start(
        "redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    )
    wait_for("Redis", lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True, 20)
    return port


def start_s3(procs: Processes) -> str:
    port = free_port()
    procs.start("moto", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}"
    wait_for("moto's S3 server", lambda: requests.get(url, timeout=2).ok, 30)
    s3_client(url).create_bucket(Bucket=BUCKET)
    return url


def s3_client(url: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake key region_name="us-east-1"
    )


def namespaces_work() -> bool:
    """Tell whether this machine lets us give a worker its own mount and hostname namespace."""
    if os.environ.get("MDSP_CLUSTER_NO_NAMESPACES") == "1" or not shutil.which("unshare"):
        return False
    probe = "hostname probe && mount -t tmpfs tmpfs /tmp"
    return (
        subprocess.run(
            ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", probe], capture_output=True
        ).returncode
        == 0
    )


def worker_command(name: str, isolated: bool) -> list[str]:
    worker = [
        str(BIN / "airflow"),
        "celery",
        "worker",
        "--celery-hostname",
        f"{name}@%h",
        "--concurrency",
        "3",
        "--skip-serve-logs",
        "--queues",
        f"default,{name}",
    ]
    if not isolated:
        return worker
    # A host of its own: its own hostname (recorded on each task instance) and an empty private /tmp.
    setup = f"hostname {name} && mount -t tmpfs -o mode=1777 tmpfs /tmp"
    if ROOT.is_relative_to("/tmp"):  # noqa: S108 - a checkout under /tmp (a CI clone) stays visible
        keep = f"/var/tmp/mdsp-cluster-{name}-checkout"  # noqa: S108 - outside the /tmp being replaced
        setup = (
            f"mkdir -p {keep} && mount --bind {shlex.quote(str(ROOT))} {keep} && {setup}"
            f" && mkdir -p {shlex.quote(str(ROOT))} && mount --bind {keep} {shlex.quote(str(ROOT))}"
        )
    return [
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{setup} && exec "$@"',
        "sh",
        *worker,
    ]


# --- Airflow ------------------------------------------------------------------------------------


REFRESH_DAG = "mdsp_cluster_refresh_token"


def dags_folder() -> Path:
    """Return a DAGs folder with every example DAG and the cluster test's refresh-token DAG."""
    folder = WORK / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*(ROOT / "example_dags").glob("*.py"), ROOT / "tests" / "cluster_dags" / f"{REFRESH_DAG}.py"]:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
    return folder


def airflow_env(
    home: Path, pg: int, redis: int, api_port: int, emulator_url: str, s3_url: str, refresh_token: str
) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    db = f"postgresql+psycopg2://postgres@127.0.0.1:{pg}/airflow"
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPYCACHEPREFIX": str(ROOT / ".cache" / "pycache-cluster"),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Only the runs this test triggers: no scheduled run of the latest interval.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.cluster_dags.worker_hostname.worker_hostname",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"},
                }
            ),
            # The example DAGs' connection (subtenant impersonation needs tenant credentials).
            "AIRFLOW_CONN_MDSP_DEFAULT": json.dumps(
                {
                    "conn_type": "mdsp",
                    "host": emulator_url,
                    "login": "demo-techuser",
                    "password": "demo-secret",
                    "extra": {"tenant": "demo", "shared_cache": True},
                }
            ),
            # The refresh-token DAG's: no shared cache, so every task renews through the Variable.
            "AIRFLOW_CONN_MDSP_REFRESH": json.dumps(
                {
                    "conn_type": "mdsp",
                    "host": emulator_url,
                    "login": "demo-techuser",
                    "password": "demo-secret",
                    "extra": {"auth_type": "refresh_token", "tenant": "demo", "refresh_token": refresh_token},
                }
            ),
        }
    )
    return env


class Api:
    """The Airflow REST API (all users are admins here, so no token is needed)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v2"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, self.base + path, json=body, timeout=30)
        if response.status_code >= 400:
            raise Failed(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def trigger(self, dag_id: str, logical_date: datetime) -> str:
        run = self.call("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date.isoformat()})
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return list(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"])

    def set_variable(self, key: str, value: str) -> None:
        try:
            self.call("PATCH", f"/variables/{key}", {"key": key, "value": value})
        except Failed:
            self.call("POST", "/variables", {"key": key, "value": value})

    def wait_for_runs(self, runs: dict[str, str], timeout: float = RUN_TIMEOUT_S) -> dict[str, str]:
        def finished() -> dict[str, str] | None:
            states = {dag_id: self.run_state(dag_id, run_id) for dag_id, run_id in runs.items()}
            return states if all(s in ("success", "failed") for s in states.values()) else None

        return wait_for(f"runs of {', '.join(runs)}", finished, timeout, interval=2)


# --- the checks ---------------------------------------------------------------------------------


def check_every_dag_on_s3(api: Api, s3: Any, logical_date: datetime) -> dict[str, str]:
    dag_ids = example_dag_ids()
    # The runs go in parallel here, not one after another as in `make examples`: the Data Lake DAG
    # counts a day's readings of every pump, which the bulk-import DAG adds to, so it gets another day.
    days = {"mdsp_plant_kpis_to_data_lake": logical_date - timedelta(days=2)}
    first = [d for d in dag_ids if d not in CONSUMERS]
    runs = {dag_id: api.trigger(dag_id, days.get(dag_id, logical_date)) for dag_id in [*first, REFRESH_DAG]}
    states = api.wait_for_runs(runs)
    # Then the consumers of what those runs wrote: a manual run takes its producer's latest output.
    later = {dag_id: api.trigger(dag_id, logical_date) for dag_id in dag_ids if dag_id in CONSUMERS}
    states.update(api.wait_for_runs(later))
    runs.update(later)
    check_refresh_rotations(api, runs.pop(REFRESH_DAG), states.pop(REFRESH_DAG))
    hosts: set[str] = set()
    for dag_id, run_id in runs.items():
        tis = api.task_instances(dag_id, run_id)
        hosts |= {ti["hostname"] for ti in tis if ti.get("hostname")}
        bad = {
            f"{ti['task_id']}[{ti.get('map_index', -1)}]": ti["state"]
            for ti in tis
            if ti["state"] not in ("success", "skipped")
        }
        if states[dag_id] != "success" or bad:
            raise Failed(f"{dag_id} ended {states[dag_id]}; task states {bad}")
    log(f"every example DAG succeeded ({len(runs)} runs); tasks ran on {sorted(hosts)}")
    if not set(WORKERS) <= hosts:
        raise Failed(f"the tasks should have run on both workers {WORKERS}, ran on {sorted(hosts)}")
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    for dag_id in dag_ids:
        if not any(key.startswith(f"mdsp/{dag_id}/") for key in keys):
            raise Failed(f"{dag_id} wrote nothing under s3://{BUCKET}/mdsp/{dag_id}/")
    return runs


def check_refresh_rotations(api: Api, run_id: str, state: str) -> None:
    """Each read of the refresh-token DAG ran on the worker its queue names, and all succeeded."""
    tis = sorted(api.task_instances(REFRESH_DAG, run_id), key=lambda ti: ti["task_id"])
    placed = [(ti["task_id"], ti["hostname"], ti["state"]) for ti in tis]
    expected = [(f"read_{n}", WORKERS[n % 2], "success") for n in range(len(tis))]
    if state != "success" or placed != expected or len(tis) < 6:
        raise Failed(f"the refresh-token DAG ended {state}: {placed}")
    log(f"refresh-token connection: {len(tis)} renewals alternating {' -> '.join(h for _, h, _ in placed)}")


def check_kill_mid_read(
    api: Api, procs: Processes, s3: Any, emulator: Any, logical_date: datetime, reference: str
) -> None:
    """Kill the worker running ``snapshot_assets`` while its read waits on the gateway."""
    emulator.set_faults(latency_ms=8000)
    run_id = api.trigger("mdsp_asset_inventory", logical_date)

    def running_on() -> str | None:
        tis = {ti["task_id"]: ti for ti in api.task_instances("mdsp_asset_inventory", run_id)}
        ti = tis.get("snapshot_assets")
        return ti["hostname"] if ti and ti["state"] == "running" and ti.get("hostname") else None

    host = wait_for("snapshot_assets to run", running_on, 90)
    time.sleep(3)  # inside the slowed-down read
    log(f"killing {host} while snapshot_assets reads")
    procs.kill(host)
    emulator.set_faults()
    state = api.wait_for_runs({"mdsp_asset_inventory": run_id})["mdsp_asset_inventory"]
    tis = {ti["task_id"]: ti for ti in api.task_instances("mdsp_asset_inventory", run_id)}
    ti = tis["snapshot_assets"]
    if state != "success" or ti["try_number"] < 2:
        raise Failed(
            f"after the kill the run ended {state}, snapshot_assets try {ti['try_number']} on {ti['hostname']}"
        )
    key = next(
        k["Key"]
        for k in s3.list_objects_v2(Bucket=BUCKET, Prefix="mdsp/mdsp_asset_inventory/")["Contents"]
        if k["Key"].endswith("/assets.jsonl") and k["Key"] != reference
    )
    if (
        s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        != s3.get_object(Bucket=BUCKET, Key=reference)["Body"].read()
    ):
        raise Failed(f"the retried output {key} differs from the undisturbed run's {reference}")
    leftovers = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) if ".tmp-" in obj["Key"]]
    uploads = [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]
    if leftovers or uploads:
        raise Failed(f"leftovers after the retry: temporary objects {leftovers}, incomplete uploads {uploads}")
    log(f"killed mid-read, retried on {ti['hostname']} (try {ti['try_number']}): same bytes, no leftovers")


def check_local_output_fails_first_task(api: Api, home: Path, logical_date: datetime) -> None:
    api.set_variable("mdsp_output_dir", "file:///tmp/mdsp-output")
    run_id = api.trigger("mdsp_daily_pump_extraction", logical_date)
    state = api.wait_for_runs({"mdsp_daily_pump_extraction": run_id}, timeout=120)["mdsp_daily_pump_extraction"]
    tis = {ti["task_id"]: ti for ti in api.task_instances("mdsp_daily_pump_extraction", run_id)}
    first = tis["list_pumps"]
    if state != "failed" or first["state"] != "failed" or first["try_number"] != 1:
        raise Failed(
            f"with a local output the run ended {state}; list_pumps {first['state']} try {first['try_number']}"
        )
    logs = [p for p in (home / "logs").rglob("*") if p.is_file() and run_id in str(p) and "list_pumps" in str(p)]
    if not any(LOCAL_OUTPUT_MESSAGE in p.read_text(errors="replace") for p in logs):
        raise Failed(f"the log of list_pumps lacks the documented message ({[str(p) for p in logs]})")
    log("with file:///tmp/mdsp-output the first task failed at once with the documented message")


@contextlib.contextmanager
def cluster(keep: bool) -> Iterator[tuple[Api, Processes, Any, Any, Path]]:
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "logs").mkdir(parents=True)
    procs = Processes(WORK / "logs")
    try:
        ensure_debian_packages()
        isolated = namespaces_work()
        pg, redis, s3_url = start_postgres(procs), start_redis(procs), start_s3(procs)
        with run_emulator(config=demo_config().with_overrides(refresh_token_reuse=False), mode="thread") as emulator:
            issued = requests.post(
                f"{emulator.url}/_emulator/refresh-token", json={"client_id": "demo-techuser"}, timeout=10
            ).json()
            home = WORK / "home"
            (home / "config").mkdir(parents=True)
            (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
            api_port = free_port()
            env = airflow_env(home, pg, redis, api_port, emulator.url, s3_url, issued["refresh_token"])
            log(f"services up (postgres :{pg}, redis :{redis}, S3 {s3_url}, emulator {emulator.url}); migrating")
            subprocess.run(
                [str(BIN / "airflow"), "db", "migrate"],
                env=env,
                check=True,
                stdout=(WORK / "logs" / "migrate.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            api = Api(api_port)
            procs.start("api-server", [str(BIN / "airflow"), "api-server"], env)
            wait_for("the API server", lambda: api.call("GET", "/version"), 120, interval=1)
            for component in ("scheduler", "dag-processor", "triggerer"):
                procs.start(component, [str(BIN / "airflow"), component], env)
            for name in WORKERS:
                worker_env = {**env, "MDSP_CLUSTER_WORKER": name}
                if not isolated:
                    worker_env["TMPDIR"] = tempfile.mkdtemp(prefix=f"{name}-", dir=WORK)
                procs.start(name, worker_command(name, isolated), worker_env)
            if not isolated:
                log(
                    "no mount and hostname namespaces here (or MDSP_CLUSTER_NO_NAMESPACES=1): "
                    "the workers run with separate TMPDIRs, not separate /tmp"
                )
            dags = [*example_dag_ids(), REFRESH_DAG]
            wait_for(
                "the DAG processor to parse the example DAGs",
                lambda: all(api.call("GET", f"/dags/{d}") for d in dags),
                120,
                interval=2,
            )
            api.set_variable("mdsp_output_dir", f"s3://aws_default@{BUCKET}/mdsp")
            log(f"Airflow up: api-server, scheduler, dag-processor, triggerer, workers {', '.join(WORKERS)}")
            yield api, procs, s3_client(s3_url), emulator, home
    finally:
        procs.stop_all()
        if not keep:
            shutil.rmtree(WORK / "home", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the Airflow home and logs in .demo/cluster/")
    args = parser.parse_args(argv)
    started = time.monotonic()
    logical_date = default_logical_date()
    checks = (
        "every example DAG on S3 across both workers, refresh tokens across them",
        "a worker killed mid-read",
        "a local output on two hosts",
    )
    passed = 0
    try:
        with cluster(args.keep) as (api, procs, s3, emulator, home):
            emulator.reset_stats()
            runs = check_every_dag_on_s3(api, s3, logical_date)
            passed += 1
            log(f"token requests for the {len(runs)} runs: {emulator.stats()['token_requests']}")
            inventory = s3.list_objects_v2(Bucket=BUCKET, Prefix="mdsp/mdsp_asset_inventory/")["Contents"]
            reference = next(k["Key"] for k in inventory if k["Key"].endswith("/assets.jsonl"))
            check_kill_mid_read(api, procs, s3, emulator, logical_date - timedelta(days=7), reference)
            passed += 1
            check_local_output_fails_first_task(api, home, logical_date - timedelta(days=1))
            passed += 1
    except (Failed, subprocess.CalledProcessError) as exc:
        log(f"FAILED ({checks[passed]}): {exc} (logs in {WORK / 'logs'}; Airflow's task logs with --keep)")
        print(f"cluster: {passed} passed, {len(checks) - passed} failed")
        return 1
    log(f"cluster test passed in {time.monotonic() - started:.0f} s")
    print(f"cluster: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
