"""Triggers: plain-JSON serialisation, and a run loop that yields exactly one success, error or timeout."""

from __future__ import annotations

import importlib
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.exceptions import MdspAuthError, MdspJobFailedError
from airflow_provider_mdsp.timeutil import deadline_after
from airflow_provider_mdsp.triggers.base import result_from_event
from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger
from airflow_provider_mdsp.triggers.event_jobs import MdspEventsJobTrigger
from airflow_provider_mdsp.triggers.events import MdspEventTrigger
from airflow_provider_mdsp.triggers.timeseries import MdspTimeSeriesTrigger
from tests.helpers.gateway import ACCESS, ASSET, BULK, EM, SECRET, TOKEN_URL, TS, events_page
from tests.helpers.triggers import first_event

TICK = 0.01


TRIGGERS = [
    MdspTimeSeriesTrigger(
        mdsp_conn_id="mdsp_default",
        asset_id=ASSET,
        aspect="Vibration",
        after="2024-05-01T10:00:00.000Z",
        variables=["speed"],
        poll_interval=30,
        timeout_at="2024-05-02T00:00:00.000Z",
    ),
    MdspEventTrigger(
        mdsp_conn_id="mdsp_default",
        filter={"typeId": "acme.Alarm", "timestamp": {"after": "2024-05-01T10:00:00.000Z"}},
        max_matches=10,
        poll_interval=5.0,
    ),
    MdspBulkImportJobTrigger(mdsp_conn_id="other", job_id="job-1", poll_interval=60, timeout_at=None),
    MdspEventsJobTrigger(
        mdsp_conn_id="other", kind="create", job_id="j-1", poll_interval=5, sub_tenant="s", carry={"sent": 50}
    ),
]


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: type(t).__name__)
def test_serialize_round_trips_through_plain_json_and_an_importable_class_path(trigger):
    classpath, kwargs = trigger.serialize()
    decoded = json.loads(json.dumps(kwargs))  # plain JSON only: the triggerer table stores it
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**decoded)  # as the triggerer does
    assert type(rebuilt) is type(trigger)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert classpath.startswith("airflow_provider_mdsp.triggers.")


def test_time_series_trigger_polls_until_data_appears(gateway, requests_mock):
    api = requests_mock.get(
        f"{TS}/{ASSET}/Vibration", [{"json": []}, {"json": []}, {"json": [{"_time": "2024-05-01T10:00:05.000Z"}]}]
    )
    trigger = MdspTimeSeriesTrigger(
        mdsp_conn_id="mdsp_default",
        asset_id=ASSET,
        aspect="Vibration",
        after="2024-05-01T10:00:00Z",
        poll_interval=TICK,
    )
    payload = first_event(trigger)
    assert payload["result"].pop("to") > payload["result"]["after"]  # the end of the window it looked at
    assert payload == {
        "status": "success",
        "message": None,
        "result": {
            "asset_id": ASSET,
            "aspect": "Vibration",
            "after": "2024-05-01T10:00:00.000Z",
            "first_time": "2024-05-01T10:00:05.000Z",
        },
    }
    assert api.call_count == 3
    assert gateway.call_count == 1  # one token for every poll of the trigger


def test_trigger_times_out_at_its_deadline_with_a_clear_message(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page([]))
    trigger = MdspEventTrigger(
        mdsp_conn_id="mdsp_default", filter={"typeId": "acme.Alarm"}, poll_interval=TICK, timeout_at=deadline_after(0.1)
    )
    payload = first_event(trigger)
    assert payload["status"] == "timeout"
    assert "deadline" in payload["message"]
    assert api.call_count >= 2  # it did poll until the deadline
    with pytest.raises(TimeoutError, match="deadline"):
        result_from_event(payload, on_timeout=TimeoutError)


def test_a_past_deadline_still_checks_once(gateway, requests_mock):
    requests_mock.get(f"{EM}/events", json=events_page([{"id": "e1", "timestamp": "2024-05-01T10:00:00Z"}]))
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    trigger = MdspEventTrigger(mdsp_conn_id="mdsp_default", filter={}, poll_interval=TICK, timeout_at=past)
    assert first_event(trigger)["status"] == "success"


def test_bulk_trigger_reports_a_job_in_error_with_the_jobs_message(gateway, requests_mock):
    requests_mock.get(
        f"{BULK}/importJobs/job-7",
        [
            {"json": {"id": "job-7", "status": "IN_PROGRESS"}},
            {"json": {"id": "job-7", "status": "ERROR", "message": "Records are not sorted by _time"}},
        ],
    )
    payload = first_event(MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-7", poll_interval=TICK))
    assert payload["status"] == "error"
    assert payload["result"]["status"] == "ERROR"
    with pytest.raises(MdspJobFailedError, match="Records are not sorted by _time"):
        result_from_event(payload, on_timeout=TimeoutError)


def test_bulk_trigger_success_carries_the_job_summary(gateway, requests_mock):
    job = {"id": "job-7", "status": "SUCCESS", "message": None, "startTime": "s", "lastModified": "m"}
    requests_mock.get(f"{BULK}/importJobs/job-7", json=job)
    payload = first_event(MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-7", poll_interval=TICK))
    assert result_from_event(payload, on_timeout=TimeoutError) == {
        "job_id": "job-7",
        "status": "SUCCESS",
        "message": None,
        "startTime": "s",
        "lastModified": "m",
    }


def test_the_trigger_closes_its_client_when_it_ends(gateway, requests_mock, monkeypatch):
    from airflow_provider_mdsp.client import MdspClient

    closed: list = []
    monkeypatch.setattr(MdspClient, "close", lambda self: closed.append(self))
    requests_mock.get(f"{BULK}/importJobs/job-8", json={"id": "job-8", "status": "SUCCESS"})
    first_event(MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-8", poll_interval=TICK))
    assert len(closed) == 1


def test_a_failing_check_ends_in_an_error_event_without_any_secret(gateway, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.post(
        TOKEN_URL, status_code=401, json={"error": "unauthorized", "error_description": "Bad credentials"}
    )
    payload = first_event(MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-7", poll_interval=TICK))
    assert payload["status"] == "error"
    assert payload["message"]
    for text in (json.dumps(payload), caplog.text):
        assert SECRET not in text
        assert ACCESS not in text
    with pytest.raises(MdspAuthError, match=r"rejected the credentials") as err:
        result_from_event(payload, on_timeout=TimeoutError)
    assert (err.value.status, err.value.code) == (401, "unauthorized"), "the same error the worker's check raises"
    assert not isinstance(err.value, MdspJobFailedError)


def test_a_deferred_wait_whose_credentials_are_refused_fails_without_retries_as_in_the_worker(gateway, requests_mock):
    from airflow_provider_mdsp.operators.base import AirflowFailException
    from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
    from airflow_provider_mdsp.sensors.bulk import MdspBulkImportJobSensor

    requests_mock.post(TOKEN_URL, status_code=401, json={"error": "invalid_client"})
    payload = first_event(MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-7", poll_interval=TICK))
    sensor = MdspBulkImportJobSensor(task_id="wait", job_id="job-7")
    with pytest.raises(AirflowFailException, match="rejected the credentials") as err:
        sensor.execute_complete({}, payload)
    assert isinstance(err.value, MdspAuthError)
    with pytest.raises(MdspAuthError, match="rejected the credentials") as err:
        sensor.poke({})  # the same check in the worker
    operator = MdspBulkImportOperator(task_id="import", entity_id="a1", aspect="Vibration", files=[])
    with pytest.raises(AirflowFailException, match="rejected the credentials"):
        operator.execute_complete({"ti": None}, payload)


def test_an_unexpected_event_is_a_clear_error():
    with pytest.raises(Exception, match="unexpected event"):
        result_from_event({"nothing": 1}, on_timeout=TimeoutError)


def test_a_deferred_wait_keeps_impersonating_its_subtenant_in_the_triggerer():
    from airflow_provider_mdsp.sensors.bulk import MdspBulkImportJobSensor
    from airflow_provider_mdsp.sensors.datalake import MdspDataLakeImportJobSensor

    for sensor in (
        MdspBulkImportJobSensor(task_id="b", job_id="j1", sub_tenant="sub-a"),
        MdspDataLakeImportJobSensor(task_id="d", job_id="j1", sub_tenant="sub-a"),
    ):
        path, kwargs = sensor.make_trigger({}).serialize()
        module, name = path.rsplit(".", 1)
        rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
        assert (rebuilt.job_id, rebuilt.sub_tenant) == ("j1", "sub-a")
        assert rebuilt.make_hook().sub_tenant == "sub-a"


def test_a_rate_limited_check_comes_back_when_the_gateway_asked(gateway, requests_mock, manual_clock):
    quota = {"status_code": 429, "headers": {"Retry-After": "1800"}, "json": {"message": "Quota exceeded"}}
    api = requests_mock.get(f"{BULK}/importJobs/job-8", [quota, {"json": {"id": "job-8", "status": "SUCCESS"}}])
    trigger = MdspBulkImportJobTrigger(mdsp_conn_id="mdsp_default", job_id="job-8", poll_interval=TICK)
    payload = first_event(trigger)
    assert payload["status"] == "success"
    assert api.call_count == 2
    assert manual_clock.sleeps == [1800.0], "the next check waited the Retry-After, not the poll interval"


def test_a_rate_limited_check_never_waits_past_the_deadline(gateway, requests_mock, manual_clock):
    quota = {"status_code": 429, "headers": {"Retry-After": "1800"}, "json": {"message": "Quota exceeded"}}
    requests_mock.get(f"{BULK}/importJobs/job-9", [quota])
    deadline = deadline_after(600)
    trigger = MdspBulkImportJobTrigger(
        mdsp_conn_id="mdsp_default", job_id="job-9", poll_interval=TICK, timeout_at=deadline
    )
    payload = first_event(trigger)
    assert payload["status"] == "timeout"
    assert 599 <= sum(manual_clock.sleeps) <= 600
