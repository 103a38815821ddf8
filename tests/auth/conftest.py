"""Fixtures for the auth tests: a hand-moved clock (the root conftest empties the provider registry)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_mdsp.timeutil import ManualClock, using_clock

from .helpers import T0


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """Install a hand-moved clock, starting at ``T0``, for every layer."""
    with using_clock(ManualClock(start=T0)) as manual:
        yield manual
