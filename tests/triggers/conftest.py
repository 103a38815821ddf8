"""Fixtures of the trigger tests: a mocked gateway behind the default ``mdsp`` connection."""

from __future__ import annotations

import pytest

from tests.helpers.gateway import connect
from tests.integration.conftest import emulator_connection, mdsp_emulator  # noqa: F401 - shared fixtures


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    """The default connection with a mocked token endpoint; returns the token mock."""
    return connect(mdsp_connection, requests_mock)
