"""Asset hierarchy and model, subtenants, Data Lake, event jobs and time-series PATCH against the emulator."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from airflow_provider_mdsp.client import ClientSettings, MdspClient
from airflow_provider_mdsp.exceptions import (
    MdspBadRequestError,
    MdspConfigError,
    MdspNotFoundError,
    MdspUnsafeLinkError,
)
from tests.helpers.emulator import EmulatorTokens

pytestmark = pytest.mark.integration

STEP_S = 0.2
KPI_TYPE = {
    "name": "Kpi",
    "category": "dynamic",
    "scope": "private",
    "variables": [{"name": "FlowMean", "dataType": "DOUBLE", "unit": "l/min"}],
}


@pytest.fixture(scope="module")
def emu() -> Any:
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(config=demo_config().with_overrides(job_step_s=STEP_S)) as handle:
        yield handle


@pytest.fixture
def client(emu):
    with MdspClient.create(
        ClientSettings(emu.url, max_retries=2, backoff_base=0.05), EmulatorTokens(emu.token_url)
    ) as c:
        yield c


def test_walking_a_path_finds_the_motor_of_each_line_below_site_b(client):
    model = client.asset_model
    site = model.resolve_path("Site-B")
    motors = list(model.iter_descendants(site["assetId"], type_id="demo.Motor", root_path="Site-B"))
    assert [(m["name"], m["path"], m["depth"]) for m in motors] == [
        ("Motor-B1", "Site-B/Line-B1/Motor-B1", 2),
        ("Motor-B2", "Site-B/Line-B2/Motor-B2", 2),
    ]
    children = list(model.iter_descendants(site["assetId"], max_depth=1))
    assert [c["name"] for c in children] == ["Line-B1", "Line-B2"]


def test_a_missing_name_on_the_path_is_named(client):
    with pytest.raises(MdspNotFoundError, match="'Line-X9' under Site-B"):
        client.asset_model.resolve_path("Site-B/Line-X9")


def test_ensure_creates_the_model_once_and_updates_only_a_difference(client):
    model = client.asset_model
    first = model.ensure_aspect_type("demo.KpiIt", KPI_TYPE)
    again = model.ensure_aspect_type("demo.KpiIt", KPI_TYPE)
    assert (first["action"], again["action"], again["etag"]) == ("created", "unchanged", first["etag"])
    wider = {**KPI_TYPE, "variables": [*KPI_TYPE["variables"], {"name": "Uptime", "dataType": "DOUBLE"}]}
    assert model.ensure_aspect_type("demo.KpiIt", wider)["action"] == "updated"
    added = model.ensure_asset_type_aspect("demo.Motor", "KpiIt", "demo.KpiIt")
    assert added["action"] == "updated"
    assert model.ensure_asset_type_aspect("demo.Motor", "KpiIt", "demo.KpiIt")["action"] == "unchanged"
    aspects = {a["name"] for a in client.assets.get_asset_type("demo.Motor")["aspects"]}
    assert aspects == {"MotorData", "KpiIt"}
    with pytest.raises(MdspConfigError, match="already has an aspect 'KpiIt'"):
        model.ensure_asset_type_aspect("demo.Motor", "KpiIt", "demo.MotorData")


def test_ensure_asset_never_makes_a_second_asset(client):
    model = client.asset_model
    line = model.resolve_path("Site-A/Line-A1")["assetId"]
    made = model.ensure_asset(line, "Pump-A1-9", "demo.Pump", {"description": "spare"})
    same = model.ensure_asset(line, "Pump-A1-9", "demo.Pump", {"description": "spare"})
    moved = model.ensure_asset(line, "Pump-A1-9", "demo.Pump", {"description": "spare, installed"})
    assert (made["action"], same["action"], moved["action"]) == ("created", "unchanged", "updated")
    assert made["id"] == same["id"] == moved["id"]
    named = list(client.assets.iter_assets(filter={"parentId": line, "name": "Pump-A1-9"}))
    assert len(named) == 1
    assert named[0]["description"] == "spare, installed"


def test_subtenants_are_listed_across_pages(client):
    pages = list(client.tenants.iter_subtenant_pages(size=1))
    assert [[s["id"] for s in p] for p in pages] == [["demo-sub1"], ["demo-sub2"]]


def test_an_object_goes_up_and_comes_back_through_signed_urls_without_the_token(client, emu):
    data = bytes(range(256)) * 4096  # 1 MiB
    stored = client.datalake.upload_object("it/blob.bin", io.BytesIO(data))
    assert stored == {"path": "it/blob.bin", "bytes": len(data)}
    meta = client.datalake.get_object_metadata("it/blob.bin")
    assert (meta["size"], meta["name"]) == (len(data), "blob.bin")
    out = io.BytesIO()
    assert client.datalake.download_object("it/blob.bin", out) == len(data)
    assert out.getvalue() == data
    url = client.datalake.generate_download_urls(["it/blob.bin"])[0]["signedUrl"]
    tampered = url.replace("X-Method=GET", "X-Method=PUT")
    refused = requests.get(tampered, timeout=10)
    assert refused.status_code == 403
    assert "SignatureDoesNotMatch" in refused.text
    assert [o["path"] for o in client.datalake.iter_objects("it")] == ["it/blob.bin"]


def test_a_streamed_upload_above_the_lake_limit_fails_with_s3s_reason_and_no_signature(client, monkeypatch):
    from airflow_provider_mdsp.emulator.services.datalake import storage_routes

    monkeypatch.setattr(storage_routes, "MAX_OBJECT_BYTES", 1024)
    read_end, write_end = os.pipe()  # a pipe has no length: the body goes chunked
    os.write(write_end, b"x" * 2048)
    os.close(write_end)
    with open(read_end, "rb") as pipe, pytest.raises(MdspBadRequestError) as err:
        client.datalake.upload_object("it/too-big.bin", pipe)
    assert (err.value.status, err.value.code) == (400, "EntityTooLarge")
    message = str(err.value)
    assert message.endswith("/it/too-big.bin: HTTP 400 [EntityTooLarge] " + storage_routes.TOO_LARGE)
    assert "X-Signature" not in message
    assert "?" not in message
    with pytest.raises(MdspNotFoundError):
        client.datalake.get_object_metadata("it/too-big.bin")


def test_a_signed_url_is_refused_when_it_would_downgrade_https(client):
    client.transport.settings = ClientSettings("https://gateway.example")
    with pytest.raises(MdspUnsafeLinkError, match="scheme 'http'"):
        client.datalake._signed_call("GET", "http://storage.example/x?sig=1")


def test_a_subtenants_objects_are_its_own(client):
    client.datalake.upload_object("own/x.txt", io.BytesIO(b"sub"), subtenant_id="demo-sub1")
    assert client.datalake.get_object_metadata("own/x.txt", subtenant_id="demo-sub1")["subtenantId"] == "demo-sub1"
    with pytest.raises(MdspNotFoundError):
        client.datalake.get_object_metadata("own/x.txt")


def test_an_export_job_writes_the_window_into_the_lake(client, emu):
    pump = emu.demo_assets()["Pump-A2-1"]
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=2)
    job = client.datalake.create_import_job(
        "it-export", [pump], ["PumpData"], from_=end - timedelta(hours=1), to=end, destination="it-exports/one"
    )
    assert job["status"] == "PENDING"
    with pytest.raises(Exception, match="PENDING"):
        client.datalake.get_import_job_details(job["id"])
    emu.advance_clock(STEP_S * 2.5)  # PENDING -> IN_PROGRESS -> SUCCESS, on the emulator's clock
    details = client.datalake.get_import_job_details(job["id"])
    assert (details["status"], details["fileCount"]) == ("SUCCESS", 1)
    assert client.datalake.find_import_job("it-export")["id"] == job["id"]
    out = io.BytesIO()
    client.datalake.download_object(f"it-exports/one/{pump}/PumpData.json", out)
    records = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert len(records) == 60
    assert records[-1]["_time"] == end.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    client.datalake.delete_import_job(job["id"])
    assert client.datalake.find_import_job("it-export") is None


def api_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def finished(client: Any, emu: Any, kind: str, job_id: str) -> dict:
    """Move the emulator's clock past the job's two steps and read the job."""
    emu.advance_clock(STEP_S * 2.5)
    return client.event_jobs.get_events_job(kind, job_id)


def raw_patch(emu: Any, entity: str, records: list[dict]) -> requests.Response:
    """Send a PATCH the client would refuse, to see the emulator's own answer."""
    token = EmulatorTokens(emu.token_url).get_token().access_token
    url = f"{emu.url}/api/iottimeseries/v3/timeseries/{entity}/PumpData"
    return requests.patch(url, json=records, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_create_job_creates_its_events_and_reports_each(client, emu):
    pump = emu.demo_assets()["Pump-B2-1"]
    stamp = api_time(datetime.now(timezone.utc) - timedelta(hours=1))
    events = [
        {"entityId": pump, "timestamp": stamp, "description": f"batch {i}", "correlationId": f"c-{i}"} for i in range(3)
    ]
    job = client.event_jobs.create_events_job(events)
    assert job["state"] == "ACCEPTED"
    done = finished(client, emu, "create", job["id"])
    assert done["state"] == "FINISHED"
    assert [r["resultCode"] for r in done["details"]["resultDescription"]] == ["201"] * 3
    found = list(client.events.iter_events(filter={"entityId": pump, "correlationId": "c-1"}))
    assert [e["description"] for e in found] == ["batch 1"]


def test_a_create_job_takes_at_most_50_events(client):
    with pytest.raises(MdspConfigError, match="1 to 50"):
        client.event_jobs.create_events_job([{"entityId": "x", "timestamp": "2026-01-01T00:00:00Z"}] * 51)


def test_a_delete_job_deletes_one_types_events_and_a_concurrent_one_fails(client, emu):
    first = client.event_jobs.delete_events_job({"typeId": "demo.PumpAlarm"})
    second = client.event_jobs.delete_events_job({"typeId": "demo.PumpAlarm"})
    assert finished(client, emu, "delete", first["id"])["state"] == "FINISHED"
    assert client.event_jobs.get_events_job("delete", second["id"])["state"] == "FINISHED_WITH_ERROR"
    alarms = {"typeId": "demo.PumpAlarm", "timestamp": {"after": "2000-01-01T00:00:00Z"}}
    assert list(client.events.iter_events(filter=alarms)) == []


def test_a_delete_filter_without_one_type_is_refused_before_sending(client):
    with pytest.raises(MdspConfigError, match="one event type"):
        client.event_jobs.delete_events_job({"entityId": "x"})


def test_patch_merges_the_given_variables_and_keeps_the_others(client, emu):
    pump = emu.demo_assets()["Pump-A1-2"]
    moment = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)
    window = {"from_": moment - timedelta(minutes=1), "to": moment}
    (before,) = client.timeseries.iter_timeseries(pump, "PumpData", **window)
    assert client.timeseries.patch_timeseries(pump, "PumpData", [{"_time": moment, "FlowRate": 1.5}]) == 1
    (after,) = client.timeseries.iter_timeseries(pump, "PumpData", **window)
    assert after["FlowRate"] == 1.5
    assert after["Temperature"] == before["Temperature"]


def test_the_emulator_refuses_patches_over_ten_records_or_a_day_old(client, emu):
    pump = emu.demo_assets()["Pump-A1-2"]
    now = datetime.now(timezone.utc)
    eleven = [{"_time": api_time(now - timedelta(minutes=i + 1)), "FlowRate": 1.0} for i in range(11)]
    assert raw_patch(emu, pump, eleven).status_code == 400
    old = raw_patch(emu, pump, [{"_time": api_time(now - timedelta(days=2)), "FlowRate": 1.0}])
    assert old.status_code == 400
    assert "24 hours" in old.json()["message"]
    with pytest.raises(MdspConfigError, match="24 hours"):
        client.timeseries.patch_timeseries(pump, "PumpData", [{"_time": now - timedelta(days=2), "FlowRate": 1.0}])
