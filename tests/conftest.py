"""Shared test setup: a throwaway AIRFLOW_HOME, connections from environment variables, clean caches."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Airflow reads its home at import time: point it at a throwaway folder before anything imports it.
# Never the user's own home, and one per xdist worker: workers inherit the controller's environment,
# and two workers migrating one SQLite file collide.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"mdsp-airflow-home-{_WORKER}-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture(autouse=True)
def _fresh_token_providers() -> Iterator[None]:
    """Give every test an empty process-wide token registry, so no token leaks between tests."""
    from airflow_provider_mdsp.auth import clear_token_providers

    clear_token_providers()
    yield
    clear_token_providers()


@pytest.fixture
def manual_clock() -> Iterator[Any]:
    """Install a :class:`~airflow_provider_mdsp.timeutil.ManualClock` for every layer: sleeps take no time."""
    from airflow_provider_mdsp.timeutil import ManualClock, using_clock

    with using_clock(ManualClock()) as clock:
        yield clock


@pytest.fixture
def python310(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse times with Python 3.10's stricter ``fromisoformat``, whatever Python runs the tests."""
    from airflow_provider_mdsp import timeutil
    from tests.helpers.time import py310_fromisoformat

    monkeypatch.setattr(timeutil, "_fromisoformat", py310_fromisoformat)


@pytest.fixture
def mdsp_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Create an ``mdsp`` connection through ``AIRFLOW_CONN_<ID>``, as users of env connections do."""

    def create(conn_id: str = "mdsp_default", **fields: Any) -> str:
        extra = fields.pop("extra", {})
        conn = {"conn_type": "mdsp", **fields, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return create
