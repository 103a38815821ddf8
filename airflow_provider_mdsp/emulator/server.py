"""Run the emulator on a free loopback port, in a thread or in a subprocess.

``run_emulator()`` is the entry point for tests and benchmarks::

    with run_emulator() as emu:
        requests.post(emu.token_url, auth=("demo-techuser", "demo-secret"),
                      data={"grant_type": "client_credentials"})

Thread mode runs uvicorn in a daemon thread (fast to start, shares the GIL with the caller);
process mode runs ``python -m airflow_provider_mdsp.emulator`` so a benchmark client and the
server do not compete for the GIL. Both bind port 0 and stop cleanly on exit.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import EmulatorConfig, config_to_dict

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_URL = re.compile(r"(http://[0-9.]+:\d+)")


class EmulatorHandle:
    """A running emulator: its URLs and the admin calls.

    :param url: base URL, e.g. ``http://127.0.0.1:53211``
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.token_url = f"{url}/oauth/token"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL built by us
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            payload = response.read()
        return json.loads(payload) if payload else None

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (omitted ones are off); return the new settings.

        :param settings: see :class:`airflow_provider_mdsp.emulator.faults.FaultSettings`
        """
        result: dict[str, Any] = self._call("PUT", "/_emulator/faults", settings)
        return result

    def faults(self) -> dict[str, Any]:
        """Return the current fault settings."""
        result: dict[str, Any] = self._call("GET", "/_emulator/faults")
        return result

    def stats(self) -> dict[str, Any]:
        """Return the counters (token requests, calls per endpoint, 429s, faults)."""
        result: dict[str, Any] = self._call("GET", "/_emulator/stats")
        return result

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._call("POST", "/_emulator/stats/reset")

    def reset(self) -> None:
        """Drop all tenant state and counters (the demo data is re-seeded on next use)."""
        self._call("POST", "/_emulator/reset")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward (token expiry, job progress, rate windows) without waiting.

        :param seconds: how far, >= 0
        :return: ``{"now", "offset_s"}``
        """
        result: dict[str, Any] = self._call("POST", "/_emulator/clock/advance", {"seconds": seconds})
        return result

    def demo_assets(self, tenant: str = "demo") -> dict[str, str]:
        """Return ``{asset name: asset id}`` of the demo plant.

        :param tenant: tenant name
        """
        data = self._call("GET", f"/_emulator/demo?tenant={tenant}")
        return {a["name"]: a["assetId"] for a in data["assets"]}


def _bind(host: str, port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextmanager
def _thread_server(config: Any, faults: dict[str, Any] | None, host: str) -> Iterator[EmulatorHandle]:
    import uvicorn

    from .app import create_app

    app = create_app(config, faults)
    sock = _bind(host)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="mdsp-emulator")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the emulator thread did not start")
        time.sleep(0.01)
    try:
        yield EmulatorHandle(f"http://{host}:{sock.getsockname()[1]}")
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()


@contextmanager
def _process_server(config: Any, faults: dict[str, Any] | None, host: str) -> Iterator[EmulatorHandle]:
    with tempfile.TemporaryDirectory(prefix="mdsp-emulator-") as tmp:
        cmd = [sys.executable, "-m", "airflow_provider_mdsp.emulator", "--host", host, "--port", "0"]
        if config is not None:
            cmd += ["--config", str(_config_file(config, Path(tmp)))]
        log_path = Path(tmp) / "stderr.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)
        try:
            handle = EmulatorHandle(_read_url(proc, log_path))
            if faults:
                handle.set_faults(**faults)
            yield handle
        finally:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)


def _config_file(config: Any, directory: Path) -> Path:
    if isinstance(config, (str, Path)):
        return Path(config)
    data = config_to_dict(config) if isinstance(config, EmulatorConfig) else config
    path = directory / "config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _read_url(proc: subprocess.Popen[bytes], log_path: Path) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:  # keeps the pipe from filling up after the banner
            lines.put(raw.decode(errors="replace"))

    threading.Thread(target=drain, daemon=True, name="mdsp-emulator-stdout").start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        match = _URL.search(line)
        if match:
            return match.group(1)
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    raise RuntimeError(f"the emulator process did not start:\n{tail}")


@contextmanager
def run_emulator(
    config: str | Path | dict[str, Any] | EmulatorConfig | None = None,
    faults: dict[str, Any] | None = None,
    mode: str = "thread",
    host: str = "127.0.0.1",
) -> Iterator[EmulatorHandle]:
    """Run an emulator on a free port for the duration of a ``with`` block.

    :param config: config file path, dict or :class:`EmulatorConfig`; ``None`` = built-in demo
    :param faults: initial fault settings, e.g. ``{"latency_ms": 50, "rate_limit": "5/1"}``
    :param mode: ``"thread"`` (in-process) or ``"process"`` (a subprocess, for benchmarks)
    :param host: loopback address to bind
    """
    if mode == "thread":
        with _thread_server(config, faults, host) as handle:
            yield handle
    elif mode == "process":
        with _process_server(config, faults, host) as handle:
            yield handle
    else:
        raise ValueError(f"mode must be 'thread' or 'process', got {mode!r}")
