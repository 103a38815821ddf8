"""The process-wide token provider: shared by hooks that fetch alike, apart when the way of fetching differs."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.auth import TenantCredentials
from airflow_provider_mdsp.client import token_fetch
from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.token_fetch import token_provider_for

GATEWAY = "https://gateway.eu1.mindsphere.io"
CREDS = TenantCredentials("cid", "secret", "acme", "https://acme.piam.eu1.mindsphere.io/oauth/token")


@pytest.fixture
def sessions_built(monkeypatch):
    built = []
    real = token_fetch.build_session

    def counting(settings):
        built.append(settings)
        return real(settings)

    monkeypatch.setattr(token_fetch, "build_session", counting)
    return built


def test_hooks_with_the_same_credentials_and_settings_share_one_provider_and_build_no_session(sessions_built):
    first = token_provider_for(ClientSettings(GATEWAY), CREDS)
    again = token_provider_for(ClientSettings(GATEWAY), CREDS)
    assert again is first
    assert sessions_built == []  # nothing is built until a token is fetched


@pytest.mark.parametrize(
    "other",
    [
        {"proxy": "http://proxy.corp:3128"},
        {"verify": "/etc/ssl/corp-ca.pem"},
        {"verify": False},
        {"read_timeout": 5.0},
        {"max_retries": 0},
    ],
    ids=lambda o: next(iter(o)),
)
def test_a_different_way_of_fetching_gets_its_own_provider(other):
    first = token_provider_for(ClientSettings(GATEWAY), CREDS)
    assert token_provider_for(ClientSettings(GATEWAY, **other), CREDS) is not first


def test_a_shared_cache_elsewhere_gets_its_own_provider(tmp_path):
    plain = token_provider_for(ClientSettings(GATEWAY), CREDS)
    cached = token_provider_for(ClientSettings(GATEWAY), CREDS, shared_cache=token_fetch.FileTokenCache(str(tmp_path)))
    assert cached is not plain


def test_the_session_is_built_once_on_the_first_fetch(sessions_built, requests_mock):
    requests_mock.post(CREDS.token_url, json={"access_token": "tok", "expires_in": 1, "scope": "iot.tim.r"})
    provider = token_provider_for(ClientSettings(GATEWAY, proxy="http://proxy.corp:3128"), CREDS)
    provider.get_token()
    provider.invalidate()
    provider.get_token()
    assert requests_mock.call_count == 2
    assert [s.proxy for s in sessions_built] == ["http://proxy.corp:3128"]
