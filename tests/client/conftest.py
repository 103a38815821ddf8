"""Fixtures for the client tests: a fake token source, a recording sleep, a transport on requests-mock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.transport import Transport

GATEWAY = "https://gateway.test"


@dataclass(frozen=True)
class FakeToken:
    access_token: str


@dataclass
class FakeTokens:
    """A token source handing out ``t1``, ``t2`` …: a new value after each ``invalidate``."""

    generation: int = 1
    asked: int = 0
    invalidated: list[Any] = field(default_factory=list)

    def get_token(self, *, timeout: float | None = None) -> FakeToken:
        self.asked += 1
        return FakeToken(f"t{self.generation}")

    def invalidate(self, token: Any = None) -> None:
        self.invalidated.append(token)
        self.generation += 1


class Sleeps(list):
    """A ``sleep`` that records how long it was asked to wait, and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def settings() -> ClientSettings:
    return ClientSettings(GATEWAY, max_retries=3, max_retry_wait=30.0, backoff_base=0.5)


@pytest.fixture
def transport(settings, tokens, sleeps, requests_mock) -> Transport:
    return Transport(settings, tokens, sleep=sleeps)


@pytest.fixture
def client(transport) -> Any:
    from airflow_provider_mdsp.client import MdspClient

    return MdspClient(transport)


def query(request: Any) -> dict[str, str]:
    """Return a recorded request's query as a flat dict with its original case (qs lower-cases)."""
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
