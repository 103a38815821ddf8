"""Fixtures of the sensor tests: a mocked gateway, or a live emulator and a migrated Airflow database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sensors.helpers import connect, exclusive, live_emulator

#: Seconds an emulated bulk import job spends in SUBMITTED and in IN_PROGRESS.
BULK_STEP_S = 1.0


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    """The default connection with a mocked token endpoint; returns the token mock."""
    return connect(mdsp_connection, requests_mock)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the Airflow metadata database of this test session once (needed by ``dag.test()``)."""
    from airflow.utils import db

    with exclusive("migrate"):
        db.initdb()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    """A live emulator for this module, with ``mdsp_default`` pointing at its demo technical user."""
    with live_emulator(bulk_step_s=BULK_STEP_S) as emu:
        yield emu
