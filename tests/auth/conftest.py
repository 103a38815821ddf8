"""Fixtures for the auth tests: a patched clock and a clean provider registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_mdsp.auth import clear_token_providers, tokens

from .helpers import FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Install a hand-moved clock as ``tokens.now``."""
    fake = FakeClock()
    monkeypatch.setattr(tokens, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    clear_token_providers()
    yield
    clear_token_providers()
