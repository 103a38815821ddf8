"""Fault injection and counters of the emulator."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_mdsp.emulator.faults import FaultInjector, FaultSettings

from .conftest import READER, session, token

pytestmark = pytest.mark.integration

ROOT = "/api/assetmanagement/v3/assets/root"


@pytest.fixture(autouse=True)
def _no_faults(emu):
    emu.set_faults()
    yield
    emu.set_faults()


def test_latency(emu, api):
    emu.set_faults(latency_ms=200)
    started = time.monotonic()
    assert api.get(f"{emu.url}{ROOT}", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.19
    assert emu.stats()["faults"]["latency"] >= 1


def test_rate_limit_answers_429_with_retry_after_per_client(emu, api):
    emu.set_faults(rate_limit="3/60", retry_after_s=7)
    emu.reset_stats()
    statuses = [api.get(f"{emu.url}{ROOT}", timeout=10).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = api.get(f"{emu.url}/api/iottimeseries/v3/timeseries/{'0' * 32}/x", timeout=10)
    assert limited.headers["Retry-After"] == "7"
    assert set(limited.json()) == {"id", "message"}  # the Time Series error body
    other = session(token(emu, READER))
    assert other.get(f"{emu.url}{ROOT}", timeout=10).status_code == 200  # its own window
    assert emu.stats()["rate_limited"] == 3


def test_retry_after_defaults_to_the_rest_of_the_window(emu, api):
    emu.set_faults(rate_limit={"requests": 1, "window_s": 30})
    api.get(f"{emu.url}{ROOT}", timeout=10)
    limited = api.get(f"{emu.url}{ROOT}", timeout=10)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.json()["errors"][0]["code"] == "mdsp.core.generic.tooManyRequests"


def test_error_rate_is_a_fixed_fraction_with_a_seed(emu, api):
    def run() -> list[int]:
        emu.set_faults(error_rate=0.5, seed=7)
        return [api.get(f"{emu.url}{ROOT}", timeout=10).status_code for _ in range(40)]

    first = run()
    assert set(first) == {200, 503}
    assert 10 <= first.count(503) <= 30
    assert run() == first  # same seed, same sequence


def test_dropped_connection_raises_in_requests(emu, api):
    emu.set_faults(drop_rate=1.0)
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        api.get(f"{emu.url}{ROOT}", timeout=10)
    emu.set_faults()
    assert api.get(f"{emu.url}{ROOT}", timeout=10).status_code == 200
    assert emu.stats()["faults"]["drop"] >= 1


def test_short_token_lifetime(emu):
    emu.set_faults(token_lifetime_s=1)
    r = requests.post(emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"})
    assert r.json()["expires_in"] == 1
    short = session(r.json()["access_token"])
    assert short.get(f"{emu.url}{ROOT}", timeout=10).status_code == 200
    emu.advance_clock(1)
    assert short.get(f"{emu.url}{ROOT}", timeout=10).status_code == 401


def test_token_endpoints_are_only_faulted_with_the_flag(emu):
    emu.set_faults(error_rate=1.0)
    assert (
        requests.post(
            emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"}
        ).status_code
        == 200
    )
    emu.set_faults(error_rate=1.0, token_endpoints=True)
    failed = requests.post(
        emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"}
    )
    assert failed.status_code == 503


def test_faults_are_readable_and_invalid_ones_rejected(emu):
    emu.set_faults(latency_ms=5, rate_limit="10/2")
    assert emu.faults()["rate_limit"] == {"requests": 10, "window_s": 2.0}
    bad = requests.put(f"{emu.url}/_emulator/faults", json={"error_rate": 2}, timeout=10)
    assert bad.status_code == 400
    unknown = requests.put(f"{emu.url}/_emulator/faults", json={"explode": True}, timeout=10)
    assert unknown.status_code == 400


def test_call_counters_and_reset(emu, api, ids):
    emu.reset_stats()
    api.get(f"{emu.url}{ROOT}", timeout=10)
    api.get(f"{emu.url}/api/assetmanagement/v3/assets/{ids['Site-A']}", timeout=10)
    calls = emu.stats()["calls"]
    assert calls["GET /api/assetmanagement/v3/assets/root"] == 1
    assert calls["GET /api/assetmanagement/v3/assets/{asset_id}"] == 1
    created = api.post(
        f"{emu.url}/api/assetmanagement/v3/assets",
        json={"name": "Temp", "typeId": "demo.Site", "parentId": ids["demo"]},
        timeout=10,
    ).json()
    emu.reset()
    assert emu.stats()["total_calls"] == 0
    url = f"{emu.url}/api/assetmanagement/v3/assets/{created['assetId']}"
    assert api.get(url, timeout=10).status_code == 404  # state is gone
    assert api.get(f"{emu.url}/api/assetmanagement/v3/assets/{ids['Site-A']}", timeout=10).status_code == 200


def test_rate_limit_window_rolls_over():
    now = [0.0]
    injector = FaultInjector(FaultSettings.from_dict({"rate_limit": "2/10"}), clock=lambda: now[0])
    actions = [injector.decide("c", token_endpoint=False).action for _ in range(3)]
    assert actions == [None, None, "rate_limit"]
    now[0] = 10.0
    assert injector.decide("c", token_endpoint=False).action is None
