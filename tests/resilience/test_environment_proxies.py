"""Proxy and CA-bundle variables of the workers' environment work as in any ``requests`` program.

The client reads the environment once when no per-call look-up can change the answer (no proxy
variable, or the connection's own ``proxy``) and lets ``requests`` look per call otherwise, so
``HTTP_PROXY``/``HTTPS_PROXY`` with ``NO_PROXY`` still decide per URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from requests.utils import select_proxy

from airflow_provider_mdsp.client.settings import ClientSettings
from airflow_provider_mdsp.client.transport import build_session, reads_environment_per_call
from airflow_provider_mdsp.operators.output import deliver_records
from tests.helpers.proxy import counting_proxy
from tests.resilience.conftest import bench_window, client_for

pytestmark = pytest.mark.integration

VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
#: Nothing listens there: a call sent to it fails at once.
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def read(url: str, asset: str, target: Path, **settings: Any) -> dict:
    """Read 5000 records of ``bench-motor`` in pages of 500 with 4 threads into ``target``."""
    window = bench_window(5000)
    client = client_for(url, **settings)
    try:
        pages = client.timeseries.iter_timeseries_pages(
            asset, "Vibration", from_=window[0], to=window[1], limit=500, concurrency=4
        )
        return deliver_records(pages, output_path=str(target), max_xcom_records=0)
    finally:
        client.close()


@pytest.fixture
def bench(emulator) -> tuple[str, str]:
    """The emulator's URL and the ``bench-motor`` id (looked up before any proxy variable is set)."""
    return emulator.url, emulator.demo_assets()["bench-motor"]


def direct_file(url: str, asset: str, tmp_path: Path) -> bytes:
    read(url, asset, tmp_path / "direct.jsonl")
    return (tmp_path / "direct.jsonl").read_bytes()


def test_without_a_proxy_field_the_environment_proxy_carries_every_call(bench, tmp_path, monkeypatch):
    url, asset = bench
    expected = direct_file(url, asset, tmp_path)
    with counting_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        summary = read(url, asset, tmp_path / "proxied.jsonl")
    assert (tmp_path / "proxied.jsonl").read_bytes() == expected
    assert summary["records"] == 5000
    assert "/oauth/token" in proxy.paths, "the token request went through the proxy"
    assert sum("/api/iottimeseries/" in path for path in proxy.paths) >= 10, "and every page"


def test_no_proxy_still_decides_per_url(bench, tmp_path, monkeypatch):
    url, asset = bench
    expected = direct_file(url, asset, tmp_path)
    with counting_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        read(url, asset, tmp_path / "bypassed.jsonl")
    assert (tmp_path / "bypassed.jsonl").read_bytes() == expected
    assert proxy.paths == [], "127.0.0.1 is in NO_PROXY: nothing went through the proxy"


def test_the_connections_proxy_carries_every_call_whatever_the_environment_says(bench, tmp_path, monkeypatch):
    url, asset = bench
    expected = direct_file(url, asset, tmp_path)
    with counting_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
        monkeypatch.setenv("ALL_PROXY", DEAD_PROXY)
        read(url, asset, tmp_path / "proxied.jsonl", proxy=proxy.url)
    assert (tmp_path / "proxied.jsonl").read_bytes() == expected
    assert "/oauth/token" in proxy.paths
    assert sum("/api/iottimeseries/" in path for path in proxy.paths) >= 10


@pytest.mark.parametrize(
    ("environment", "settings"),
    [
        ({}, {}),
        ({"NO_PROXY": "gateway.test"}, {}),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, {}),
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".test"}, {}),
        ({"ALL_PROXY": "socks5://proxy.corp:1080", "NO_PROXY": "other.example"}, {}),
        ({}, {"proxy": "http://proxy.corp:3128"}),
        ({"REQUESTS_CA_BUNDLE": "/etc/corp/ca.pem"}, {}),
        ({"CURL_CA_BUNDLE": "/etc/corp/curl.pem"}, {"verify": "/etc/own/ca.pem"}),
        ({"REQUESTS_CA_BUNDLE": "/etc/corp/ca.pem"}, {"verify": False, "proxy": "http://proxy.corp:3128"}),
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "REQUESTS_CA_BUNDLE": "/etc/corp/ca.pem"}, {}),
    ],
)
def test_each_call_uses_the_proxy_and_ca_bundle_a_plain_requests_session_would(
    environment, settings, monkeypatch, requests_mock
):
    """What the client's session hands the adapter equals what a session reading the environment on
    every call (requests' default, what the client did before) hands it."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = ClientSettings("https://gateway.test", **settings)
    before = requests.Session()  # the session of old: settings applied, environment read per call
    before.verify = config.verify
    if config.proxy:
        before.proxies = {"http": config.proxy, "https": config.proxy}
    requests_mock.get("https://gateway.test/api/x", json=[])
    seen = []
    for session in (before, build_session(config)):
        session.get("https://gateway.test/api/x", auth=lambda request: request)
        call = requests_mock.last_request
        seen.append((select_proxy(call.url, call.proxies), call.verify))
    assert seen[1] == seen[0]


def test_the_environment_is_read_per_call_only_for_proxy_variables_without_a_proxy_field():
    plain, proxied = ClientSettings("https://gw"), ClientSettings("https://gw", proxy="http://p:3128")
    assert reads_environment_per_call(plain, {"https": "http://corp:3128"})
    assert reads_environment_per_call(plain, {"all": "socks5://corp:1080", "no": "localhost"})
    assert not reads_environment_per_call(plain, {})
    assert not reads_environment_per_call(plain, {"no": "localhost"})
    assert not reads_environment_per_call(proxied, {"https": "http://corp:3128"})
