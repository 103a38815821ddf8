"""Starting the emulator: process mode, config files, the command line."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_provider_mdsp.emulator import run_emulator
from airflow_provider_mdsp.emulator.cli import banner, build_parser, faults_from_args
from airflow_provider_mdsp.emulator.config import ConfigError, load_config
from airflow_provider_mdsp.emulator.timefmt import parse_iso

pytestmark = pytest.mark.integration

ACME = {
    "seed": 3,
    "tenants": [
        {
            "name": "acme",
            "demo_data": True,
            "subtenants": ["acme-east"],
            "users": ["ops@acme.example"],
            "credentials": [
                {"client_id": "acme-etl", "client_secret": "s3cret", "scopes": "*", "impersonation": True},
                {"client_id": "acme-viewer", "client_secret": "v", "scopes": ["am.r"]},
            ],
        }
    ],
    "apps": [
        {
            "client_id": "acme-reports-2.1.0",
            "client_secret": "app",
            "appName": "reports",
            "appVersion": "2.1.0",
            "hostTenant": "acme",
        }
    ],
}


def test_process_mode_serves_and_stops():
    with run_emulator(mode="process", faults={"latency_ms": 1}) as emu:
        r = requests.post(
            emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"}
        )
        assert r.status_code == 200
        assert emu.faults()["latency_ms"] == 1
        assert emu.stats()["token_requests"]["total"] == 1
        url = emu.url
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/_emulator/health", timeout=2)


def test_config_file_with_its_own_tenant(tmp_path):
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(ACME))
    with run_emulator(config=str(path)) as emu:
        r = requests.post(emu.token_url, auth=("acme-etl", "s3cret"), data={"grant_type": "client_credentials"})
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        types = api.get(f"{emu.url}/api/assetmanagement/v3/assettypes", params={"size": 50}).json()
        assert "acme.Pump" in {t["id"] for t in types["_embedded"]["assetTypes"]}
        users = api.get(f"{emu.url}/api/im/v3/Users", params={"filter": 'userName eq "ops@acme.example"'}).json()
        assert users["totalResults"] == 1
        demo = requests.post(
            emu.token_url, auth=("demo-techuser", "demo-secret"), data={"grant_type": "client_credentials"}
        )
        assert demo.status_code == 401  # only the configured tenants exist
        app = requests.post(
            f"{emu.url}/api/technicaltokenmanager/v3/oauth/token",
            json={"appName": "reports", "appVersion": "2.1.0", "hostTenant": "acme", "userTenant": "acme"},
            auth=("acme-reports-2.1.0", "app"),
        )
        assert app.status_code == 200


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"tenants\[0\].credentials\[0\].client_secret"):
        load_config({"tenants": [{"name": "x", "credentials": [{"client_id": "a"}]}]})
    with pytest.raises(ConfigError, match="unknown option"):
        load_config({"tenants": [{"name": "x"}], "colour": "blue"})


def test_command_line_flags_become_faults_and_banner_shows_credentials():
    args = build_parser().parse_args(
        ["--port", "0", "--latency-ms", "20", "--rate-limit", "5/10", "--retry-after", "2", "--error-rate", "0.1",
         "--drop-rate", "0.01", "--token-lifetime", "60", "--seed", "4"]
    )  # fmt: skip
    assert faults_from_args(args) == {
        "latency_ms": 20.0,
        "rate_limit": "5/10",
        "retry_after_s": 2,
        "error_rate": 0.1,
        "drop_rate": 0.01,
        "token_lifetime_s": 60,
        "seed": 4,
    }
    text = banner("http://127.0.0.1:8089", using_demo=True)
    assert "http://127.0.0.1:8089/oauth/token" in text
    assert "client_id=demo-techuser client_secret=demo-secret" in text
    assert "demo-mdspdemoapp-1.0.0" in text


def test_the_clock_moves_only_forward_and_reset_puts_it_back(emu):
    before = emu.advance_clock(0)
    after = emu.advance_clock(90)
    assert after["offset_s"] == before["offset_s"] + 90
    assert parse_iso(after["now"]) - parse_iso(before["now"]) >= 90_000
    back = requests.post(f"{emu.url}/_emulator/clock/advance", json={"seconds": -1}, timeout=10)
    assert back.status_code == 400
    emu.reset()
    assert requests.get(f"{emu.url}/_emulator/clock", timeout=10).json()["offset_s"] == 0
