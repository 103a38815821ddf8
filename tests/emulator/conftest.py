"""Fixtures for the emulator tests: one live emulator per test module, plain ``requests``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_mdsp.emulator import EmulatorHandle, run_emulator
from airflow_provider_mdsp.emulator.config import demo_config
from airflow_provider_mdsp.emulator.timefmt import format_ms, now_ms

TECH = ("demo-techuser", "demo-secret")
READER = ("demo-reader", "demo-reader-secret")
JOB_STEP_S = 60.0  # job states move when a test advances the emulator clock, never in real time
MIN_PART_BYTES = 1024  # small multipart parts keep the upload tests light


def token(emu: EmulatorHandle, creds: tuple[str, str] = TECH, **form: str) -> str:
    """Fetch a client-credentials token."""
    response = requests.post(emu.token_url, auth=creds, data={"grant_type": "client_credentials", **form}, timeout=10)
    response.raise_for_status()
    value: str = response.json()["access_token"]
    return value


def session(bearer: str) -> requests.Session:
    """Return a session that sends a bearer token."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {bearer}"
    return s


def iso(ms: int) -> str:
    """Format epoch milliseconds as the API does."""
    return format_ms(ms)


def minute_now() -> int:
    """Return now, floored to the minute (the demo data grid)."""
    now = now_ms()
    return now - now % 60_000


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    config = demo_config().with_overrides(job_step_s=JOB_STEP_S, file_min_part_bytes=MIN_PART_BYTES)
    with run_emulator(config=config) as handle:
        yield handle


@pytest.fixture(scope="module")
def api(emu: EmulatorHandle) -> requests.Session:
    """A session of the demo technical user (all scopes)."""
    return session(token(emu))


@pytest.fixture(scope="module")
def reader(emu: EmulatorHandle) -> requests.Session:
    """A session of the read-only demo user."""
    return session(token(emu, READER))


@pytest.fixture(scope="module")
def ids(emu: EmulatorHandle) -> dict[str, str]:
    """Demo asset ids by name."""
    return emu.demo_assets()


def error_of(response: requests.Response) -> Any:
    """Return the JSON error body."""
    return response.json()
