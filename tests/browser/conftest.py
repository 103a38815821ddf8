"""Real Airflow, real browser: an api-server with the provider installed, the emulator, headless Chromium.

The browser is Debian's ``chromium`` package, installed here with apt-get when it is missing and
the tests run as root (as CI does); Playwright only drives it (``executable_path``), it never
downloads a browser. Without Chromium (or Playwright) the browser tests are skipped with the
reason, never passed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.helpers.processes import load_module, stop_group

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
#: Flags that keep a headless Chromium off every network but loopback and quick to start.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The api-server answers its health check within ~20 s on 2 cores; this allows a slow machine.
SERVER_START_TIMEOUT_S = 120.0
APT_TIMEOUT_S = 600.0

#: Appended to the throwaway home's cluster policy: the example DAGs name ``mdsp_default``; this
#: points their tasks at the connection under test instead.
CONN_POLICY = """

import os as _os

_CONN_ID = _os.environ.get("MDSP_EXAMPLE_CONN_ID")


def _use_connection_under_test(task):
    if _CONN_ID and hasattr(task, "mdsp_conn_id"):
        task.mdsp_conn_id = _CONN_ID


_retries_off = task_policy


def task_policy(task):
    _retries_off(task)
    _use_connection_under_test(task)
"""


def _load_runner() -> ModuleType:
    """Import ``scripts/run_example_dags.py`` (workspace, emulator connection, ``airflow dags test``)."""
    return load_module("mdsp_run_example_dags", ROOT / "scripts" / "run_example_dags.py")


runner = _load_runner()


def find_or_install_chromium() -> tuple[str | None, str]:
    """Return ``(path, "")`` of Debian's Chromium, installing it when root; else ``(None, why)``."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path:
        return path, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return (
            None,
            "Chromium is not installed and cannot be installed here (needs root and apt-get): apt-get install chromium",
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, f"Chromium could not be installed: {' '.join(cmd)} took over {APT_TIMEOUT_S:.0f} s"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return (
                None,
                f"Chromium could not be installed: {' '.join(cmd)} exited {done.returncode}: {' | '.join(tail)}",
            )
    path = shutil.which("chromium")
    return (path, "") if path else (None, "apt-get installed chromium but no chromium command was found")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (installed when missing and possible), or a skip that says why."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright; it drives the system Chromium)")
    path, why = find_or_install_chromium()
    if not path:
        pytest.skip(why)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class AirflowServer:
    """A running ``airflow api-server`` in a throwaway home, and how to run Airflow commands beside it."""

    url: str
    home: Path
    env: dict[str, str]
    log: Path

    def stored_connection(self, conn_id: str) -> dict[str, Any]:
        """Return the connection's row as Airflow stored it: decrypted, typed, without importing Airflow."""
        from cryptography.fernet import Fernet

        fernet = Fernet(self.env["AIRFLOW__CORE__FERNET_KEY"].encode())
        query = (
            "SELECT host, login, password, extra, is_encrypted, is_extra_encrypted FROM connection WHERE conn_id = ?"
        )
        with contextlib.closing(sqlite3.connect(self.home / "airflow.db")) as db:
            row = db.execute(query, (conn_id,)).fetchone()
        assert row, f"no connection {conn_id!r} was stored"
        host, login, password, extra, encrypted, extra_encrypted = row
        if encrypted and password:
            password = fernet.decrypt(password.encode()).decode()
        if extra_encrypted and extra:
            extra = fernet.decrypt(extra.encode()).decode()
        return {"host": host, "login": login, "password": password, "extra": json.loads(extra) if extra else {}}

    def airflow(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run an ``airflow`` command against this home; return its output (raise on failure)."""
        done = subprocess.run(
            [str(runner.BIN / "airflow"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=runner.COMMAND_TIMEOUT_S,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"airflow api-server exited {proc.returncode}:\n{runner.tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(
        f"airflow api-server did not answer within {SERVER_START_TIMEOUT_S:.0f} s:\n{runner.tail(log)}"
    )


@pytest.fixture(scope="module")
def airflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    """Start the api-server (SQLite, throwaway AIRFLOW_HOME, free loopback port) and the emulator."""
    from cryptography.fernet import Fernet

    from airflow_provider_mdsp.emulator import run_emulator

    port = _free_port()
    with run_emulator() as emulator, runner.airflow_workspace(emulator.url) as (home, env, _output):
        with (home / "config" / "airflow_local_settings.py").open("a") as policy:
            policy.write(CONN_POLICY)
        env = {k: v for k, v in env.items() if k != "AIRFLOW_CONN_MDSP_DEFAULT"}  # connections come from the UI
        env.update(
            {
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "MDSP_EMULATOR_URL": emulator.url,
            }
        )
        log = home / "api-server.log"
        url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(runner.BIN / "airflow"), "api-server"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        try:
            _wait_until_healthy(url, proc, log)
            yield AirflowServer(url=url, home=home, env=env, log=log)
        finally:
            stop_group(proc, 3)
