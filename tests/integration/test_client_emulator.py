"""Every service client against the live emulator, with a real token from its token endpoint.

The client and the emulator were written apart from the same API reference, so agreement here
means both read it the same way.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from airflow_provider_mdsp.client import ClientSettings, MdspClient
from airflow_provider_mdsp.client.files import MIN_PART_SIZE
from airflow_provider_mdsp.exceptions import (
    MdspConfigError,
    MdspConflictError,
    MdspNotFoundError,
    MdspRateLimitedError,
    MdspServerError,
)
from tests.helpers.emulator import EmulatorTokens

pytestmark = pytest.mark.integration

JOB_STEP_S = 60.0  # job states move when a test advances the emulator clock, never in real time
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def emu() -> Any:
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(config=demo_config().with_overrides(job_step_s=JOB_STEP_S)) as handle:
        yield handle


@pytest.fixture
def tokens(emu) -> EmulatorTokens:
    return EmulatorTokens(emu.token_url)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(emu, tokens, sleeps):
    def sleep(seconds: float) -> None:  # record, and move the emulator's clock instead of waiting
        sleeps.append(seconds)
        emu.advance_clock(seconds)

    with MdspClient.create(ClientSettings(emu.url, max_retries=4, backoff_base=0.05), tokens, sleep=sleep) as c:
        yield c
    emu.set_faults()


@pytest.fixture(scope="module")
def ids(emu) -> dict[str, str]:
    return emu.demo_assets()


def minute_now() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


@pytest.fixture
def new_pump(client, ids):
    """A fresh pump asset (demo.Pump, aspect PumpData), deleted afterwards."""
    name = f"it-pump-{time.time_ns()}"
    asset = client.assets.create_asset({"name": name, "typeId": "demo.Pump", "parentId": ids["Line-B2"]})
    yield asset
    with contextlib.suppress(MdspNotFoundError):  # the lifecycle test deletes it itself
        client.assets.delete_asset(asset["assetId"])


# --- Asset Management ---------------------------------------------------------------------------


def test_assets_listing_types_aspects_and_variables(client, ids):
    root = client.assets.get_root_asset()
    assert len(root["assetId"]) == 32
    pumps = list(client.assets.iter_assets(type_id="demo.Pump", size=3))
    assert sorted(p["name"] for p in pumps if p["name"].startswith("Pump-")) == sorted(
        n for n in ids if n.startswith("Pump-")
    )
    hot = list(client.assets.iter_assets(type_id="demo.Pump", filter={"name": "Pump-A1-1"}))
    assert [a["assetId"] for a in hot] == [ids["Pump-A1-1"]]
    assert list(client.assets.iter_assets(filter={"name": "no-such-asset"})) == []
    aspects = list(client.assets.iter_asset_aspects(ids["Pump-A1-1"]))
    assert "PumpData" in {a["name"] for a in aspects}
    variables = {v["name"] for v in client.assets.iter_asset_variables(ids["Pump-A1-1"])}
    assert {"FlowRate", "Pressure", "Temperature"} <= variables
    assert "demo.Pump" in {t["id"] for t in client.assets.iter_asset_types()}
    assert client.assets.get_asset_type("demo.Pump")["id"] == "demo.Pump"
    assert "demo.PumpData" in {t["id"] for t in client.assets.iter_aspect_types()}
    pump_data = client.assets.get_aspect_type("demo.PumpData")
    assert {v["name"] for v in pump_data["variables"]} == {"FlowRate", "Pressure", "Temperature"}


def test_asset_lifecycle_with_etags_handled_for_the_user(client, new_pump):
    asset_id = new_pump["assetId"]
    body = {"name": new_pump["name"], "description": "first"}
    updated = client.assets.update_asset(asset_id, body)
    assert updated["description"] == "first"
    assert int(updated["etag"]) == int(new_pump["etag"]) + 1
    with pytest.raises(MdspConflictError):
        client.assets.update_asset(asset_id, {**body, "description": "stale"}, etag=new_pump["etag"])
    patched = client.assets.patch_asset(asset_id, {"externalId": "ext-1"})
    assert (patched["externalId"], patched["description"]) == ("ext-1", "first")
    client.assets.delete_asset(asset_id)
    with pytest.raises(MdspNotFoundError) as err:
        client.assets.get_asset(asset_id)
    assert err.value.code.endswith("noMatch")


# --- IoT Time Series ----------------------------------------------------------------------------


def test_timeseries_read_follows_link_pages(client, ids):
    end = minute_now() - HOUR
    pages = list(
        client.timeseries.iter_timeseries_pages(ids["Pump-A2-1"], "PumpData", from_=end - 3 * HOUR, to=end, limit=50)
    )
    records = [r for page in pages for r in page]
    assert len(pages) == 4  # 180 one-minute records in pages of 50
    assert len(records) == 180  # from exclusive, to inclusive
    assert records[-1]["_time"] == end.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    latest = client.timeseries.get_latest_values(ids["Pump-A2-1"], "PumpData", select="Temperature")
    assert latest
    assert "Temperature" in latest[0]


def test_timeseries_write_read_back_and_delete(client, new_pump):
    asset_id, start = new_pump["assetId"], minute_now() - 2 * HOUR
    records = [
        {"_time": start + timedelta(seconds=i), "FlowRate": float(i), "Pressure": 4.0, "Temperature": 50.0}
        for i in range(1, 12001)
    ]  # about 1 MB as JSON: more than one request
    assert client.timeseries.put_timeseries(asset_id, "PumpData", iter(records)) == 12000
    back = list(client.timeseries.iter_timeseries(asset_id, "PumpData", from_=start, to=start + 4 * HOUR))
    assert [r["FlowRate"] for r in back] == [float(i) for i in range(1, 12001)]
    client.timeseries.delete_timeseries(asset_id, "PumpData", from_=start, to=start + HOUR)
    left = list(client.timeseries.iter_timeseries(asset_id, "PumpData", from_=start, to=start + 4 * HOUR))
    assert len(left) == 12000 - 3600


def test_timeseries_multi_write_reports_the_failed_pair(client, new_pump):
    start = minute_now() - 3 * HOUR
    good = [{"_time": start + timedelta(seconds=i), "Temperature": 40.0 + i % 5} for i in range(1, 251)]
    items = [
        {"entityId": new_pump["assetId"], "propertySetName": "PumpData", "data": good},
        {"entityId": new_pump["assetId"], "propertySetName": "NoSuchAspect", "data": good[:1]},
    ]
    result = client.timeseries.put_timeseries_multi(items)
    assert result["records"] == 250
    assert result["requests"] >= 3
    assert [(e["entityId"], e["propertySetName"], e["status"]) for e in result["errors"]] == [
        (new_pump["assetId"], "NoSuchAspect", 404)
    ]
    assert result["errors"][0]["message"]
    back = list(client.timeseries.iter_timeseries(new_pump["assetId"], "PumpData", from_=start, to=start + HOUR))
    assert len(back) == 250


# --- Aggregates ---------------------------------------------------------------------------------


def test_hourly_aggregates_of_a_day(client, ids):
    end = minute_now().replace(minute=0) - HOUR
    rows = client.aggregates.get_aggregates(
        ids["Pump-A2-1"], "PumpData", from_=end - 24 * HOUR, to=end, interval_value=1, interval_unit="hour"
    )
    assert len(rows) == 24
    assert rows[0]["Temperature"]["countgood"] + rows[0]["Temperature"].get("countuncertain", 0) >= 59
    with pytest.raises(MdspConfigError):
        client.aggregates.get_aggregates(
            ids["Pump-A2-1"], "PumpData", from_=end - 8 * 24 * HOUR, to=end, interval_value=1, interval_unit="hour"
        )


def test_hourly_aggregates_since_yesterday_need_no_end(client, ids):
    start = minute_now().replace(minute=0) - 20 * HOUR  # the service's range runs from 'from' to now
    rows = client.aggregates.get_aggregates(
        ids["Pump-A2-1"], "PumpData", from_=start, interval_value=1, interval_unit="hour"
    )
    assert 20 <= len(rows) <= 21  # the 20 whole hours since 'from', and the one now open
    assert rows[0]["starttime"] == start.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Event Management ---------------------------------------------------------------------------


def test_seeded_alarms_are_found_with_a_filter(client, ids):
    now = datetime.now(timezone.utc)
    window = f"[{(now - timedelta(days=5)).strftime('%Y-%m-%dT%H:%M:%SZ')}, {now.strftime('%Y-%m-%dT%H:%M:%SZ')})"
    alarms = list(
        client.events.iter_events(
            filter={"entityId": ids["Pump-A1-1"], "typeId": "demo.PumpAlarm", "timestamp": {"between": window}},
            sort="timestamp,asc",
            size=2,
        )
    )
    assert alarms
    assert all(a["typeId"] == "demo.PumpAlarm" for a in alarms)
    assert [a["timestamp"] for a in alarms] == sorted(a["timestamp"] for a in alarms)
    assert client.events.get_event(alarms[0]["id"])["id"] == alarms[0]["id"]
    assert client.events.get_event_type("demo.PumpAlarm")["id"] == "demo.PumpAlarm"
    assert "demo.PumpAlarm" in {t["id"] for t in client.events.iter_event_types()}


class TimeoutAfterSending(HTTPAdapter):
    """Deliver the first event POST to the server, then report a read timeout, as a slow network would."""

    def __init__(self) -> None:
        super().__init__()
        self.tripped = False

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().send(request, *args, **kwargs)
        if request.method == "POST" and request.url.endswith("/events") and not self.tripped:
            self.tripped = True
            raise requests.exceptions.ReadTimeout("read timed out (simulated)")
        return response


def test_an_event_is_created_once_even_when_its_answer_is_lost(client, emu, ids, tokens):
    client.transport.session.mount(emu.url, TimeoutAfterSending())
    event = {"entityId": ids["Motor-A1"], "timestamp": minute_now(), "description": "lost answer", "severity": 30}
    created = client.events.create_event(event, sleep=time.sleep)
    assert created["description"] == "lost answer"
    same = list(
        client.events.iter_events(
            filter={"entityId": ids["Motor-A1"], "correlationId": created["correlationId"]}, history=True
        )
    )
    assert [e["id"] for e in same] == [created["id"]]


def test_event_type_and_standard_event(client, ids):
    name = f"ItType{time.time_ns()}"
    created_type = client.events.create_event_type(
        {"name": name, "fields": [{"name": "reading", "type": "DOUBLE", "filterable": True}]}
    )
    event = client.events.create_event(
        {"entityId": ids["Motor-A2"], "typeId": created_type["id"], "reading": 1.5}, sleep=time.sleep
    )
    assert event["typeId"] == created_type["id"]
    assert event["correlationId"]


# --- IoT File -----------------------------------------------------------------------------------


def test_small_and_multipart_files_round_trip(client, ids):
    asset = ids["bench-motor"]
    small = client.files.put_file(asset, "it/notes one.txt", b"hello", content_type="text/plain", description="d")
    assert small["parts"] == 1
    assert small["etag"] is not None
    assert client.files.get_file(asset, "it/notes one.txt", byte_range=(1, 3)) == b"ell"
    payload = bytes(range(256)) * ((2 * MIN_PART_SIZE + 4096) // 256)
    big = client.files.put_file(asset, "it/big.bin", io.BytesIO(payload), part_size=MIN_PART_SIZE)
    assert big["size"] == len(payload)
    assert big["parts"] == 3
    sink = io.BytesIO()
    assert client.files.download_file(asset, "it/big.bin", sink) == len(payload)
    assert sink.getvalue() == payload
    names = {f["name"] for f in client.files.iter_files(asset, filter="path eq it/")}
    assert {"notes one.txt", "big.bin"} <= names
    updated = client.files.put_file(asset, "it/notes one.txt", b"hello again", etag=small["etag"])
    assert updated["etag"] != small["etag"]
    client.files.delete_file(asset, "it/notes one.txt")
    with pytest.raises(MdspNotFoundError):
        client.files.get_file(asset, "it/notes one.txt")


# --- TS Bulk ------------------------------------------------------------------------------------


def test_bulk_import_job_runs_to_success_and_reads_back(client, emu, new_pump):
    asset_id, start = new_pump["assetId"], minute_now() - 6 * HOUR
    records = [
        {"_time": (start + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "FlowRate": 100.0 + k}
        for k in range(30)
    ]
    client.files.put_file(asset_id, "imports/flow.json", json.dumps(records).encode(), content_type="application/json")
    job = client.bulk.create_import_job(
        asset_id, "PumpData", [{"filePath": "imports/flow.json", "from": start, "to": start + HOUR}]
    )
    assert job["id"]
    for _ in range(30):
        if (status := client.bulk.get_import_job(job["id"])["status"]) in client.bulk.FINAL_STATES:
            break
        emu.advance_clock(JOB_STEP_S / 2)
    assert status == "SUCCESS"
    window = {"from_": start - timedelta(seconds=1), "to": start + HOUR}
    back = list(client.bulk.iter_bulk_timeseries(asset_id, "PumpData", **window))
    assert [r["FlowRate"] for r in back] == [100.0 + k for k in range(30)]
    # limit caps the whole read, across nextRecord pages (§0)
    first = list(client.bulk.iter_bulk_timeseries(asset_id, "PumpData", limit=10, **window))
    assert [r["FlowRate"] for r in first] == [100.0 + k for k in range(10)]


# --- Identity -----------------------------------------------------------------------------------


def test_users_are_paged_and_a_technical_user_has_no_me(client):
    users = list(client.identity.iter_users(attributes=["userName", "name", "meta"], count=5))
    assert len(users) >= 12
    assert len({u["id"] for u in users}) == len(users)
    with pytest.raises(MdspNotFoundError):
        client.identity.get_me()


# --- Transport against injected faults ----------------------------------------------------------


def test_rate_limits_are_waited_out_as_the_server_asks(client, emu, ids, sleeps):
    emu.set_faults(rate_limit="3/1", retry_after_s=1)
    for _ in range(6):
        assert client.assets.get_asset(ids["Pump-A1-1"])["assetId"] == ids["Pump-A1-1"]
    assert 1.0 in sleeps


def test_dropped_connections_are_retried_for_reads(client, emu, ids):
    emu.set_faults(drop_rate=0.3, seed=7)
    for _ in range(8):
        assert client.assets.get_asset(ids["Motor-A1"])["assetId"] == ids["Motor-A1"]
    assert emu.stats()["faults"].get("drop", 0) >= 1


def test_persistent_503s_end_in_a_server_error(client, emu, ids, sleeps):
    emu.set_faults(error_rate=1.0)
    with pytest.raises(MdspServerError) as err:
        client.assets.get_asset(ids["Motor-A1"])
    assert err.value.status == 503
    assert len(sleeps) == 4


def test_an_expired_token_is_renewed_once(client, emu, ids, tokens):
    # A lifetime far longer than the client's renewal margin can pass in real time on a loaded
    # machine: only the emulator's clock, moved past the expiry, makes the token stale.
    emu.set_faults(token_lifetime_s=600)
    client.assets.get_root_asset()
    emu.advance_clock(601)  # the token expired at the emulator; the client still thinks it fresh
    client.assets.get_root_asset()
    assert tokens.invalidated == 1
    assert tokens.fetched == 2


# --- Per-tenant quotas -------------------------------------------------------------------------------


def test_a_spent_30_s_quota_is_waited_out_for_its_retry_after_seconds(emu, tokens):
    from airflow_provider_mdsp.emulator.timefmt import parse_iso

    now_s = parse_iso(emu.advance_clock(0)["now"]) / 1000
    emu.advance_clock(30 - now_s % 30 + 20)  # 10 s before a 30 s window ends
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the emulator's clock moves on as the client waits
        waits.append(seconds)
        emu.advance_clock(seconds)

    emu.set_faults(quotas={"per_30s": 2, "per_hour": None})
    try:
        with MdspClient.create(ClientSettings(emu.url, backoff_base=0.01), tokens, sleep=sleep) as client:
            roots = [client.assets.get_root_asset()["assetId"] for _ in range(3)]
    finally:
        emu.set_faults()
    assert len(set(roots)) == 1
    assert len(waits) == 1
    assert 8 <= waits[0] <= 10  # the Retry-After of the gateway, not a backoff guess
    assert emu.stats()["faults"]["quota"] >= 1


def test_a_spent_hourly_quota_is_a_rate_limit_error_at_once_saying_how_long_it_asks(emu, tokens):
    from airflow_provider_mdsp.emulator.timefmt import parse_iso

    now_s = parse_iso(emu.advance_clock(0)["now"]) / 1000
    emu.advance_clock(3600 - now_s % 3600 + 600)  # 50 minutes before the hour's window ends
    waits: list[float] = []
    before = emu.stats()["faults"].get("quota", 0)
    emu.set_faults(quotas={"per_30s": None, "per_hour": 2})
    try:
        settings = ClientSettings(emu.url, backoff_base=0.01, max_retry_time=7200.0)  # the deadline would admit it
        with MdspClient.create(settings, tokens, sleep=waits.append) as client:
            client.assets.get_root_asset()
            client.assets.get_root_asset()
            with pytest.raises(MdspRateLimitedError, match=r"asked to wait 3000 s .*'max_retry_wait'") as err:
                client.assets.get_root_asset()
    finally:
        emu.set_faults()
    assert err.value.retry_after == 3000
    assert waits == [], "no wait of max_retry_wait and no asking again"
    assert emu.stats()["faults"]["quota"] - before == 1, "one refused call, not one per retry"
