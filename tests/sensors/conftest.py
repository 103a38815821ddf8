"""Fixtures of the sensor tests: a mocked gateway, or a live emulator and a migrated Airflow database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.gateway import connect, live_emulator
from tests.integration.conftest import _airflow_metadata_db  # noqa: F401 - fixture, registered by import

#: Seconds an emulated bulk import job spends in SUBMITTED and in IN_PROGRESS.
JOB_STEP_S = 1.0


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    """The default connection with a mocked token endpoint; returns the token mock."""
    return connect(mdsp_connection, requests_mock)


@pytest.fixture(scope="session")
def airflow_db(_airflow_metadata_db: Any) -> None:  # noqa: F811 - the shared fixture, imported above
    """The migrated Airflow metadata database of this session (shared with tests/integration)."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    """A live emulator of this module's own, with ``mdsp_default`` pointing at its demo technical user.

    Not the session's shared one: the wait-modes test resets it between its two runs.
    """
    with live_emulator(job_step_s=JOB_STEP_S) as emu:
        yield emu
