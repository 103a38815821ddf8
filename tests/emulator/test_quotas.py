"""Per-tenant quotas of the gateway (§0): per endpoint, per 30 s and per hour, 429 with Retry-After."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_mdsp.emulator.faults import FaultSettings, FaultSettingsError
from airflow_provider_mdsp.emulator.quotas import DEFAULT_QUOTAS, QuotaCounter, Quotas, endpoint_of, parse_quotas
from airflow_provider_mdsp.emulator.timefmt import parse_iso

from .conftest import READER, session, token

pytestmark = pytest.mark.integration

ROOT = "/api/assetmanagement/v3/assets/root"
T0 = 1_800_000_000.0  # a whole hour: 30 s and 1 h windows both start here


def into_window(emu, span: int, seconds: int) -> None:
    """Advance the emulator's clock to ``seconds`` after the start of its next ``span``-second window."""
    now_s = parse_iso(emu.advance_clock(0)["now"]) / 1000
    emu.advance_clock(span - now_s % span + seconds)


@pytest.fixture(autouse=True)
def _default_faults(emu):
    emu.set_faults()
    yield
    emu.set_faults()
    emu.reset()  # the clock back to wall time, the counts gone


def test_quotas_are_on_by_default_and_can_be_switched_off(emu):
    assert emu.faults()["quotas"] == DEFAULT_QUOTAS.to_dict()
    emu.set_faults(quotas=None)
    assert emu.faults()["quotas"] is None
    assert FaultSettings.from_dict({"quotas": "off"}).quotas is None
    assert FaultSettings.from_dict({"quotas": "5/"}).quotas == Quotas(per_30s=5, per_hour=None)
    for bad in ({"per_minute": 3}, {"per_30s": 0}, "x/y"):
        with pytest.raises(FaultSettingsError):
            FaultSettings.from_dict({"quotas": bad})
    refused = requests.put(f"{emu.url}/_emulator/faults", json={"quotas": {"per_30s": -1}}, timeout=10)
    assert refused.status_code == 400


def test_the_30_s_quota_is_per_tenant_and_endpoint_and_ends_with_its_window(emu, api):
    emu.set_faults(quotas={"per_30s": 3, "per_hour": None})
    into_window(emu, 30, 12)
    statuses = [api.get(f"{emu.url}{ROOT}", timeout=10).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # The reader is another client of the same tenant: the quota is the tenant's, not the client's.
    limited = session(token(emu, READER)).get(f"{emu.url}{ROOT}", timeout=10)
    assert limited.status_code == 429
    assert 16 <= int(limited.headers["Retry-After"]) <= 18  # seconds until the 30 s window ends
    assert limited.json()["errors"][0]["message"] == "API rate limit exceeded"
    # Another endpoint has its own count.
    assert api.get(f"{emu.url}/api/assetmanagement/v3/aspecttypes", timeout=10).status_code == 200
    emu.advance_clock(int(limited.headers["Retry-After"]))
    assert api.get(f"{emu.url}{ROOT}", timeout=10).status_code == 200
    assert emu.stats()["faults"]["quota"] >= 2


def test_a_spent_hourly_quota_asks_to_wait_until_the_hour_ends(emu):
    emu.set_faults(quotas={"per_30s": 100, "per_hour": 2})
    into_window(emu, 3600, 600)
    api = session(token(emu))  # a token of the emulator's new time
    assert [api.get(f"{emu.url}{ROOT}", timeout=10).status_code for _ in range(3)] == [200, 200, 429]
    emu.advance_clock(600)  # a new 30 s window does not help
    limited = api.get(f"{emu.url}{ROOT}", timeout=10)
    assert limited.status_code == 429
    assert 2395 <= int(limited.headers["Retry-After"]) <= 2400


def test_counter_counts_no_refused_call_and_waits_for_every_spent_window():
    now = [T0 + 25.0]
    counter = QuotaCounter(clock=lambda: now[0])
    both = Quotas(per_30s=2, per_hour=2)
    assert [counter.check(both, "t", "GET /api/x/v3/y") for _ in range(3)] == [None, None, 5 + 3600 - 30]
    assert counter.check(both, "other", "GET /api/x/v3/y") is None
    now[0] = T0 + 3600
    assert counter.check(both, "t", "GET /api/x/v3/y") is None


def test_endpoints_are_method_and_resource():
    assert endpoint_of("GET", "/api/iotfile/v3/files/abc/dir/x.txt") == "GET /api/iotfile/v3/files"
    assert endpoint_of("PUT", "/api/iottimeseries/v3/timeseries") == "PUT /api/iottimeseries/v3/timeseries"
    assert parse_quotas({"per_hour": 7}) == Quotas(per_30s=None, per_hour=7)
