"""Sensors: poke, reschedule and deferrable modes make the same requests and return the same XCom value."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.sdk import PokeReturnValue

from airflow_provider_mdsp.exceptions import MdspJobFailedError
from airflow_provider_mdsp.operators.timeseries import variables_list
from airflow_provider_mdsp.sensors.bulk import MdspBulkImportJobSensor
from airflow_provider_mdsp.sensors.events import DEFAULT_MAX_MATCHES, MdspEventSensor
from airflow_provider_mdsp.sensors.timeseries import MdspTimeSeriesSensor
from airflow_provider_mdsp.triggers import checks
from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger
from airflow_provider_mdsp.triggers.events import MdspEventTrigger
from airflow_provider_mdsp.triggers.timeseries import MdspTimeSeriesTrigger
from tests.helpers.gateway import (
    ASSET,
    BULK,
    EM,
    TS,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
    context,
    events_page,
    query,
    sent_filter,
)
from tests.helpers.triggers import first_event

EVENTS = [{"id": "e1", "timestamp": "2024-05-02T00:10:00.000Z"}, {"id": "e2", "timestamp": "2024-05-02T00:20:00.000Z"}]
EVENT_RESULT = {
    "count": 2,
    "event_ids": ["e1", "e2"],
    "first_time": "2024-05-02T00:10:00.000Z",
    "last_time": "2024-05-02T00:20:00.000Z",
    "truncated": False,
}


def event_sensor(**kwargs):
    return MdspEventSensor(
        task_id="wait", type_id="acme.Alarm", entity_id=ASSET, filter={"severity": 1}, poke_interval=0, **kwargs
    )


def test_event_sensor_pokes_with_the_composed_filter_and_returns_ids_and_count(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", [{"json": events_page([])}, {"json": events_page(EVENTS)}])
    sensor = event_sensor(after="{{ data_interval_end }}")
    sensor.after = "2024-05-02T00:00:00+00:00"  # as rendered
    assert sensor.poke(context()) is False
    done = sensor.poke(context())
    assert isinstance(done, PokeReturnValue)
    assert done.xcom_value == EVENT_RESULT
    assert sent_filter(api.last_request) == {
        "severity": 1,
        "typeId": "acme.Alarm",
        "entityId": ASSET,
        "timestamp": {"after": "2024-05-02T00:00:00.000Z"},
    }


def test_event_sensor_without_after_adds_no_time_term(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page(EVENTS))
    assert event_sensor(mode="poke").execute(context()) == EVENT_RESULT
    assert "timestamp" not in sent_filter(api.last_request)


def test_event_sensor_deferrable_checks_once_then_defers_to_the_same_check(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page([]))
    sensor = event_sensor(deferrable=True, timeout=600, after="2024-05-02T00:00:00Z")
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, MdspEventTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout >= timedelta(seconds=600)
    assert api.call_count == 1
    assert trigger.check_kwargs() == sensor.make_trigger(context()).check_kwargs()
    assert trigger.filter["timestamp"] == {"after": "2024-05-02T00:00:00.000Z"}
    assert trigger.poll_interval == 0
    assert trigger.timeout_at is not None


def test_deferrable_sensor_that_is_already_done_does_not_defer(gateway, requests_mock):
    requests_mock.get(f"{EM}/events", json=events_page(EVENTS))
    assert event_sensor(deferrable=True).execute(context()) == EVENT_RESULT


def test_poke_and_trigger_send_the_same_requests_and_give_the_same_result(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page(EVENTS))
    sensor = event_sensor(after="2024-05-02T00:00:00Z")
    poked = sensor.poke(context()).xcom_value
    poke_urls = [r.url for r in api.request_history]
    api.reset()
    payload = first_event(sensor.make_trigger(context(), timeout_at=None))
    assert [r.url for r in api.request_history] == poke_urls
    assert sensor.execute_complete(context(), payload) == poked == EVENT_RESULT


def test_execute_complete_raises_timeout_and_errors_and_honours_never_fail():
    sensor = event_sensor()
    with pytest.raises(AirflowSensorTimeout, match="deadline"):
        sensor.execute_complete(context(), {"status": "timeout", "message": "Stopped waiting at the deadline x"})
    with pytest.raises(Exception, match="HTTP 403"):
        sensor.execute_complete(context(), {"status": "error", "message": "GET …: HTTP 403 forbidden"})
    lenient = event_sensor(never_fail=True)
    with pytest.raises(AirflowSkipException):
        lenient.execute_complete(context(), {"status": "error", "message": "GET …: HTTP 403 forbidden"})


def test_time_series_sensor_defaults_after_to_the_data_interval_end(gateway, requests_mock):
    api = requests_mock.get(f"{TS}/{ASSET}/Vibration", json=[{"_time": "2024-05-02T00:00:01.000Z"}])
    sensor = MdspTimeSeriesSensor(task_id="wait", asset_id=ASSET, aspect="Vibration", variables="speed, temp")
    done = sensor.poke(context())
    found = dict(done.xcom_value)
    assert found.pop("to") > found["after"]  # when it looked: the new records lie in (after, to]
    assert found == {
        "asset_id": ASSET,
        "aspect": "Vibration",
        "after": "2024-05-02T00:00:00.000Z",
        "first_time": "2024-05-02T00:00:01.000Z",
    }
    q = query(api.last_request)
    assert (q["from"], q["limit"], q["select"]) == ("2024-05-02T00:00:00.000Z", "1", "speed,temp")


def test_time_series_sensor_without_interval_waits_for_data_after_run_after(gateway, requests_mock):
    api = requests_mock.get(f"{TS}/{ASSET}/Vibration", json=[])
    sensor = MdspTimeSeriesSensor(task_id="wait", asset_id=ASSET, aspect="Vibration")
    assert sensor.poke(context(start=None, end=None)) is False
    assert query(api.last_request)["from"] == "2024-05-01T00:00:00.000Z"  # run_after of the fake run


def test_time_series_sensor_defers_to_its_trigger(gateway, requests_mock):
    requests_mock.get(f"{TS}/{ASSET}/Vibration", json=[])
    sensor = MdspTimeSeriesSensor(
        task_id="wait", asset_id=ASSET, aspect="Vibration", after="2024-05-01T10:00:00Z", deferrable=True
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, MdspTimeSeriesTrigger)
    assert trigger.check_kwargs() == {
        "asset_id": ASSET,
        "aspect": "Vibration",
        "after": "2024-05-01T10:00:00.000Z",
        "variables": None,
    }


def test_bulk_job_sensor_fails_with_the_jobs_message(gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-3", json={"id": "job-3", "status": "ERROR", "message": "bad file"})
    sensor = MdspBulkImportJobSensor(task_id="wait", job_id="job-3", poke_interval=0)
    with pytest.raises(MdspJobFailedError, match="job-3 ended in ERROR: bad file"):
        sensor.execute(context())


def test_bulk_job_sensor_waits_through_running_states(gateway, requests_mock):
    requests_mock.get(
        f"{BULK}/importJobs/job-3",
        [{"json": {"id": "job-3", "status": "SUBMITTED"}}, {"json": {"id": "job-3", "status": "SUCCESS"}}],
    )
    sensor = MdspBulkImportJobSensor(task_id="wait", job_id="job-3", poke_interval=0)
    assert sensor.execute(context())["status"] == "SUCCESS"


def test_bulk_job_sensor_defers_while_the_job_runs(gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-4", json={"id": "job-4", "status": "IN_PROGRESS"})
    with pytest.raises(TaskDeferred) as deferred:
        MdspBulkImportJobSensor(task_id="w", job_id="job-4", deferrable=True).execute(context())
    assert isinstance(deferred.value.trigger, MdspBulkImportJobTrigger)
    assert deferred.value.trigger.check_kwargs() == {"job_id": "job-4"}


@pytest.mark.parametrize("never_fail", [False, True])
def test_a_deferrable_sensor_whose_first_check_fails_fails_or_skips_with_never_fail(never_fail, gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-5", json={"id": "job-5", "status": "ERROR", "message": "bad file"})
    sensor = MdspBulkImportJobSensor(task_id="w", job_id="job-5", deferrable=True, never_fail=never_fail)
    with pytest.raises(AirflowSkipException if never_fail else MdspJobFailedError, match="bad file"):
        sensor.execute(context())


def test_reschedule_mode_raises_a_reschedule_when_not_done(gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-5", json={"id": "job-5", "status": "IN_PROGRESS"})

    class TI:
        def get_first_reschedule_date(self, context):
            return None

    sensor = MdspBulkImportJobSensor(task_id="w", job_id="job-5", mode="reschedule", poke_interval=30)
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(context(ti=TI()))


def test_deferrable_follows_airflows_default_deferrable(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert MdspBulkImportJobSensor(task_id="a", job_id="j").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert MdspBulkImportJobSensor(task_id="b", job_id="j").deferrable is False
    assert MdspBulkImportJobSensor(task_id="c", job_id="j", deferrable=True).deferrable is True


def test_small_helpers():
    assert variables_list(" a, b ,") == ["a", "b"]
    assert variables_list(["x"]) == ["x"]
    assert variables_list(None) is None
    assert DEFAULT_MAX_MATCHES == checks.DEFAULT_MAX_MATCHES


QUOTA_SPENT = {"status_code": 429, "headers": {"Retry-After": "3600"}, "json": {"message": "Quota exceeded"}}


def test_a_poke_the_gateway_rate_limits_for_an_hour_is_not_yet_and_logs_the_wait(gateway, requests_mock, capsys):
    api = requests_mock.get(f"{BULK}/importJobs/job-6", [QUOTA_SPENT, {"json": {"id": "job-6", "status": "SUCCESS"}}])
    sensor = MdspBulkImportJobSensor(task_id="wait", job_id="job-6", poke_interval=0)
    assert sensor.poke(context()) is False
    logged = "".join(capsys.readouterr())  # the task logger writes to the console here
    assert "Rate limited; checking again later (asked to wait 3600 s)" in logged
    assert api.call_count == 1, "refused at once, not asked again after max_retry_wait"
    assert sensor.poke(context()).xcom_value["status"] == "SUCCESS"


def test_a_deferrable_sensor_rate_limited_on_its_first_check_defers_instead_of_failing(gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-7", [QUOTA_SPENT])
    with pytest.raises(TaskDeferred) as deferred:
        MdspBulkImportJobSensor(task_id="w", job_id="job-7", deferrable=True).execute(context())
    assert isinstance(deferred.value.trigger, MdspBulkImportJobTrigger)


def test_reschedule_mode_comes_back_when_the_rate_limiting_gateway_asked(gateway, requests_mock):
    from airflow_provider_mdsp.timeutil import utcnow

    requests_mock.get(f"{BULK}/importJobs/job-10", [QUOTA_SPENT])

    class TI:
        def get_first_reschedule_date(self, context):
            return None

    sensor = MdspBulkImportJobSensor(task_id="w", job_id="job-10", mode="reschedule", poke_interval=30)
    with pytest.raises(AirflowRescheduleException) as rescheduled:
        sensor.execute(context(ti=TI()))
    later = (rescheduled.value.reschedule_date - utcnow()).total_seconds()
    assert 3500 < later <= 3600, f"rescheduled in {later:.0f} s, not the hour the gateway asked for"
