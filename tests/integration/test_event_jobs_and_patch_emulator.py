"""Event bulk jobs and time-series PATCH through the real clients against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.client import ClientSettings, MdspClient
from airflow_provider_mdsp.exceptions import MdspBadRequestError, MdspConfigError

from .test_client_emulator import EmulatorTokens

pytestmark = pytest.mark.integration

STEP_S = 0.2


@pytest.fixture(scope="module")
def emu() -> Any:
    from airflow_provider_mdsp.emulator import run_emulator
    from airflow_provider_mdsp.emulator.config import demo_config

    with run_emulator(config=demo_config().with_overrides(bulk_step_s=STEP_S)) as handle:
        yield handle


@pytest.fixture
def client(emu):
    with MdspClient.create(
        ClientSettings(emu.url, max_retries=2, backoff_base=0.05), EmulatorTokens(emu.token_url)
    ) as c:
        yield c


def finished(client, emu, kind: str, job_id: str) -> dict:
    """Move the emulator's clock past the job's two steps and read the job."""
    emu.advance_clock(STEP_S * 2.5)
    return client.event_jobs.get_events_job(kind, job_id)


def test_a_create_job_creates_its_events_and_reports_each(client, emu):
    pump = emu.demo_assets()["Pump-B2-1"]
    stamp = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
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
    assert (
        list(
            client.events.iter_events(
                filter={"typeId": "demo.PumpAlarm", "timestamp": {"after": "2000-01-01T00:00:00Z"}}
            )
        )
        == []
    )


def test_a_delete_filter_without_one_type_is_refused_before_sending(client):
    with pytest.raises(MdspConfigError, match="one event type"):
        client.event_jobs.delete_events_job({"entityId": "x"})


def test_patch_merges_the_given_variables_and_keeps_the_others(client, emu):
    pump = emu.demo_assets()["Pump-A1-2"]
    moment = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)
    before = list(client.timeseries.iter_timeseries(pump, "PumpData", from_=moment - timedelta(minutes=1), to=moment))
    assert client.timeseries.patch_timeseries(pump, "PumpData", [{"_time": moment, "FlowRate": 1.5}]) == 1
    (after,) = client.timeseries.iter_timeseries(pump, "PumpData", from_=moment - timedelta(minutes=1), to=moment)
    assert after["FlowRate"] == 1.5
    assert after["Temperature"] == before[0]["Temperature"]


def test_patch_refuses_old_data_and_more_than_ten_records(client, emu):
    pump = emu.demo_assets()["Pump-A1-2"]
    old = datetime.now(timezone.utc) - timedelta(days=2)
    with pytest.raises(MdspConfigError, match="24 hours"):
        client.timeseries.patch_timeseries(pump, "PumpData", [{"_time": old, "FlowRate": 1.0}])
    session_token = EmulatorTokens(emu.token_url).get_token().access_token
    import requests

    now = datetime.now(timezone.utc)
    records = [
        {"_time": (now - timedelta(minutes=i + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "FlowRate": 1.0}
        for i in range(11)
    ]
    answer = requests.patch(
        f"{emu.url}/api/iottimeseries/v3/timeseries/{pump}/PumpData",
        json=records,
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    )
    assert answer.status_code == 400
    old_record = [{"_time": old.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "FlowRate": 1.0}]
    answer = requests.patch(
        f"{emu.url}/api/iottimeseries/v3/timeseries/{pump}/PumpData",
        json=old_record,
        headers={"Authorization": f"Bearer {session_token}"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "24 hours" in answer.json()["message"]
    _ = MdspBadRequestError
