"""What every benchmark shares: the environment, the emulator, connections, statistics and the result table."""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_mdsp.emulator import EmulatorHandle

ROOT = Path(__file__).resolve().parent.parent

#: Demo tenant of the emulator (airflow_provider_mdsp/emulator/config.py, docs/emulator.md).
TENANT = "demo"
CLIENT_ID = "demo-techuser"
CLIENT_SECRET = "demo-secret"

#: Connection ids the benchmarks define through ``AIRFLOW_CONN_*`` environment variables.
MDSP_CONN = "mdsp_bench"
HTTP_API_CONN = "http_bench_api"
HTTP_TOKEN_CONN = "http_bench_token"

#: A cheap read every contender of the per-call figures calls: one small JSON object.
CHEAP_PATH = "/api/assetmanagement/v3/assets/root"
TOKEN_PATH = "/oauth/token"


def prepare_environment() -> None:
    """Point Airflow at a throwaway home and cache bytecode, for this process and every child."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mdsp-bench-home-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".cache" / "pycache"))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    quiet_logs()


def quiet_logs() -> None:
    """Keep retry warnings and per-request debug lines out of the benchmark output."""
    logging.basicConfig(level=logging.ERROR)
    for name in ("airflow_provider_mdsp", "airflow", "urllib3", "httpx", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.ERROR)


def connection_env(url: str, *, shared_cache: bool = False, **extra: Any) -> dict[str, str]:
    """Return ``AIRFLOW_CONN_*`` variables: the ``mdsp`` connection and the two HttpHook baselines.

    :param url: the emulator's base URL.
    :param shared_cache: the ``mdsp`` connection's host-wide token cache switch.
    :param extra: more ``mdsp`` connection extras (timeouts, retries).
    """
    mdsp = {
        "conn_type": "mdsp",
        "host": url,
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "extra": {"tenant": TENANT, "auth_url": url + TOKEN_PATH, "shared_cache": shared_cache, **extra},
    }
    # What users of HttpHook configure: the API with no login (the bearer header is set by hand),
    # and the token endpoint with Basic auth (HttpHook's default when a login is set).
    api = {"conn_type": "http", "host": url}
    token = {"conn_type": "http", "host": url, "login": CLIENT_ID, "password": CLIENT_SECRET}
    return {
        f"AIRFLOW_CONN_{MDSP_CONN.upper()}": json.dumps(mdsp),
        f"AIRFLOW_CONN_{HTTP_API_CONN.upper()}": json.dumps(api),
        f"AIRFLOW_CONN_{HTTP_TOKEN_CONN.upper()}": json.dumps(token),
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (this process and children started in it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def fresh_token_registry() -> None:
    """Forget process-wide token providers, so the next hook starts like a new task process."""
    from airflow_provider_mdsp.auth import clear_token_providers

    clear_token_providers()


def handrolled_token(token_hook: Any = None) -> str:
    """Fetch a token the way users hand-roll it with HttpHook: POST the token endpoint with Basic auth."""
    from airflow.providers.http.hooks.http import HttpHook

    hook = token_hook or HttpHook(method="POST", http_conn_id=HTTP_TOKEN_CONN)
    return str(hook.run(TOKEN_PATH, data={"grant_type": "client_credentials"}).json()["access_token"])


def token_requests(emu: EmulatorHandle) -> int:
    """Return how many tokens the emulator has issued since its last reset (``/_emulator/stats``)."""
    return int(emu.stats()["token_requests"]["total"])


@contextmanager
def emulator(**options: Any) -> Iterator[EmulatorHandle]:
    """Run the emulator in its own process (it must not share the client's GIL) on a free loopback port."""
    from airflow_provider_mdsp.emulator import run_emulator

    with run_emulator(mode="process", **options) as running:
        yield running


def median(values: Sequence[float]) -> float:
    """Return the median of the values."""
    return statistics.median(values)


@dataclass
class Row:
    """One line of the result table.

    :param figure: what is measured.
    :param ours: our figure, formatted.
    :param baseline: the baseline's figure, formatted, naming the baseline.
    :param ratio: how ours compares, formatted (e.g. ``20x fewer``).
    :param target: the target, or ``""``.
    :param met: ``True``/``False`` against the target, ``None`` when there is none.
    """

    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str = ""
    met: bool | None = None


def render_table(rows: Sequence[Row]) -> str:
    """Render rows as a Markdown table (the same text goes into docs/benchmarks.md)."""
    head = ["Figure", "Ours", "Baseline", "Ratio", "Target", "Met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append("| " + " | ".join([r.figure, r.ours, r.baseline, r.ratio, r.target, met]) + " |")
    return "\n".join(lines)


def run_json_subprocess(args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> Any:
    """Run ``python <args>`` in a fresh interpreter and return the JSON object on its last stdout line."""
    import subprocess

    done = subprocess.run(
        [sys.executable, *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt_ratio(value: float, better: str = "") -> str:
    """Format a ratio like ``12.3x`` (with an optional word such as ``fewer``)."""
    text = f"{value:.1f}x" if value < 100 else f"{value:.0f}x"
    return f"{text} {better}".strip()
