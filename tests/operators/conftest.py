"""Operator tests: the emulator and real-Airflow fixtures are shared from tests/integration."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401 - fixtures, registered by import
    _airflow_metadata_db,
    airflow_dags,
    emulator_connection,
    mdsp_emulator,
)
