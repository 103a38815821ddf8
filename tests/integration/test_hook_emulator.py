"""MdspHook against the live emulator, once per credential flow: a token, then every service.

Each flow is configured the way a user would configure it (an ``AIRFLOW_CONN_*`` connection),
and the emulator's counters show how many token requests each flow really made.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from airflow_provider_mdsp.exceptions import MdspTokenExpiredError
from airflow_provider_mdsp.hooks.mdsp import MdspHook

pytestmark = pytest.mark.integration

TECH_ID, TECH_SECRET = "demo-techuser", "demo-secret"
APP_ID, APP_SECRET = "demo-mdspdemoapp-1.0.0", "demo-app-secret"


def tenant_credentials(emu: Any) -> tuple[dict[str, Any], str]:
    extra = {"tenant": "demo", "auth_url": emu.token_url}
    return {"login": TECH_ID, "password": TECH_SECRET, "extra": extra}, "client_credentials"


def subtenant(emu: Any) -> tuple[dict[str, Any], str]:
    conn, grant = tenant_credentials(emu)
    conn["extra"]["sub_tenant"] = "demo-sub1"
    return conn, grant


def app_credentials(emu: Any) -> tuple[dict[str, Any], str]:
    # app name, version and host tenant are read from the client ID; the TMS URL from the gateway.
    return {"login": APP_ID, "password": APP_SECRET, "extra": {"auth_type": "app_credentials"}}, "app_credentials"


def user_token(emu: Any) -> tuple[dict[str, Any], str]:
    token = requests.post(f"{emu.url}/_emulator/user-token", json={"tenant": "demo"}, timeout=10).json()
    return {"extra": {"auth_type": "user_token", "user_token": f"Bearer {token['access_token']}"}}, ""


def refresh_token(emu: Any) -> tuple[dict[str, Any], str]:
    issued = requests.post(f"{emu.url}/_emulator/refresh-token", json={"client_id": TECH_ID}, timeout=10).json()
    extra = {"auth_type": "refresh_token", "tenant": "demo", "auth_url": emu.token_url}
    return {"login": TECH_ID, "password": TECH_SECRET, "extra": {**extra, "refresh_token": issued["refresh_token"]}}, (
        "refresh_token"
    )


FLOWS = [tenant_credentials, subtenant, app_credentials, user_token, refresh_token]


@pytest.fixture
def flow_hook(request, mdsp_emulator, monkeypatch):
    """An ``mdsp_flow`` connection for the flow under test, and the emulator's counters reset."""
    conn, grant = request.param(mdsp_emulator)
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_FLOW", json.dumps({"conn_type": "mdsp", "host": mdsp_emulator.url, **conn}))
    mdsp_emulator.reset_stats()
    return MdspHook("mdsp_flow"), grant, mdsp_emulator


@pytest.mark.parametrize("flow_hook", FLOWS, indirect=True, ids=lambda f: f.__name__)
def test_every_flow_gets_a_token_and_reads_every_service(flow_hook):
    hook, grant, emu = flow_hook
    client = hook.client
    assert client.assets.get_root_asset()["name"] == "demo"
    pumps = list(client.assets.iter_assets(type_id="demo.Pump", size=3))
    assert len(pumps) == 8  # three pages of Spring paging
    pump = next(p for p in pumps if p["name"] == "Pump-A1-1")

    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=2)
    pages = list(client.timeseries.iter_timeseries_pages(pump["assetId"], "PumpData", from_=start, to=end, limit=500))
    times = [record["_time"] for page in pages for record in page]
    assert len(pages) >= 6
    assert len(times) == 2 * 1440  # one-minute data, (from, to]
    assert times == sorted(set(times))  # no duplicates, no disorder across pages

    aggregates = client.aggregates.get_aggregates(
        pump["assetId"],
        "PumpData",
        from_=start.replace(hour=0, minute=0),
        to=end.replace(hour=0, minute=0),
        interval_unit="day",
        interval_value=1,
    )
    assert aggregates
    assert aggregates[0]["Temperature"]["countgood"] == 1440
    alarms = list(client.events.iter_events(filter={"typeId": "demo.PumpAlarm", "entityId": pump["assetId"]}))
    assert alarms
    root_files = [f["name"] for f in client.files.iter_files(client.assets.get_root_asset()["assetId"])]
    assert "pump-manual.txt" in root_files

    tokens = emu.stats()["token_requests"]
    if grant:
        assert tokens["by_grant"] == {grant: 1}  # one token for all of the calls above
    else:
        assert tokens["total"] == 0  # a user token is passed through, never requested


@pytest.mark.parametrize("flow_hook", [subtenant], indirect=True, ids=["subtenant"])
def test_a_subtenant_token_is_issued_for_the_subtenant(flow_hook):
    hook, _, _ = flow_hook
    assert hook.client.transport.tokens.get_token().subtenant == "demo-sub1"


@pytest.mark.parametrize("flow_hook", [tenant_credentials, app_credentials], indirect=True, ids=["tenant", "app"])
def test_connection_test_passes_against_the_emulator(flow_hook):
    hook, _, _ = flow_hook
    ok, message = hook.test_connection()
    assert ok, message
    assert "root asset" in message


def test_an_expired_user_token_is_a_clear_error(mdsp_emulator, monkeypatch):
    token = requests.post(
        f"{mdsp_emulator.url}/_emulator/user-token", json={"tenant": "demo", "lifetime_s": 0}, timeout=10
    ).json()["access_token"]
    conn = {"conn_type": "mdsp", "host": mdsp_emulator.url, "extra": {"auth_type": "user_token", "user_token": token}}
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_EXPIRED", json.dumps(conn))
    with pytest.raises(MdspTokenExpiredError) as err:
        MdspHook("mdsp_expired").request("GET", "/api/assetmanagement/v3/assets/root")
    assert "user_token" in str(err.value)
    assert token not in str(err.value)
