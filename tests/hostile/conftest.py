"""Fixtures of the hostile-network tests: two hostile servers (the gateway, and another host) and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.hostile.server import Hostile, hostile_server, token


@pytest.fixture
def gateway() -> Iterator[Hostile]:
    """The gateway and token endpoint: a hostile server whose token endpoint behaves until told otherwise."""
    with hostile_server() as server:
        server.play("/oauth/token")(token)
        yield server


@pytest.fixture
def elsewhere() -> Iterator[Hostile]:
    """Another host, reached as ``localhost`` (the gateway is ``127.0.0.1``): nothing may ever arrive here."""
    with hostile_server() as server:
        server.url = server.url.replace("127.0.0.1", "localhost")
        yield server


@pytest.fixture
def client_for(gateway: Hostile) -> Callable[..., Any]:
    """Build an ``MdspClient`` for the hostile gateway with quick retries; settings override the defaults."""
    from airflow_provider_mdsp.auth import TenantCredentials, clear_token_providers
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from airflow_provider_mdsp.client.token_fetch import token_provider_for

    def build(**settings: Any) -> Any:
        options = {"backoff_base": 0.01, "max_retry_wait": 0.05, "connect_timeout": 2.0, "read_timeout": 5.0}
        config = ClientSettings(gateway.url, **{**options, **settings})
        clear_token_providers()
        credentials = TenantCredentials("hostile-client", "hostile-secret", "acme", f"{gateway.url}/oauth/token")
        return MdspClient.create(config, token_provider_for(config, credentials))

    yield build
    clear_token_providers()
