"""Bulk import: submitted once (a retry waits for the same job), then waited for in the worker or the triggerer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from airflow_provider_mdsp.exceptions import MdspJobFailedError, MdspWaitTimeoutError
from airflow_provider_mdsp.operators.bulk import STATE_KEY, MdspBulkImportOperator
from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger
from tests.helpers.gateway import ASSET, BULK, FakeStore, TaskDeferred, connect, context
from tests.helpers.gateway import FILES as FILE_API
from tests.helpers.triggers import first_event

FILES = [{"filePath": "import/day1.json", "from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}]
DONE = {"id": "job-1", "status": "SUCCESS", "message": "Imported", "startTime": "s", "lastModified": "m"}
SUMMARY = {"job_id": "job-1", "status": "SUCCESS", "message": "Imported", "startTime": "s", "lastModified": "m"}


class FakeTI:
    """Records XCom pushes (and how many API calls had been made when each happened)."""

    def __init__(self, requests_mock, pulled=None):
        self.requests_mock, self.pulled, self.pushed = requests_mock, pulled, []

    def xcom_push(self, key, value):
        self.pushed.append((key, value, self.requests_mock.call_count))

    def xcom_pull(self, task_ids, key):
        return self.pulled


@pytest.fixture
def gateway(mdsp_connection, requests_mock, manual_clock):
    return connect(mdsp_connection, requests_mock)


def operator(**kwargs):
    return MdspBulkImportOperator(
        task_id="import", entity_id=ASSET, aspect="Vibration", files=FILES, **{"poll_interval": 0, **kwargs}
    )


def test_submits_pushes_the_job_id_before_waiting_then_polls_to_success(gateway, requests_mock):
    post = requests_mock.post(f"{BULK}/importJobs", status_code=201, json={"id": "job-1", "status": "SUBMITTED"})
    get = requests_mock.get(
        f"{BULK}/importJobs/job-1", [{"json": {"id": "job-1", "status": "IN_PROGRESS"}}, {"json": DONE}]
    )
    ti, store = FakeTI(requests_mock), FakeStore()
    assert operator(deferrable=False).execute(context(ti=ti, task_state_store=store)) == SUMMARY
    assert post.last_request.json()["data"][0]["timeseriesFiles"][0]["from"] == "2024-05-01T00:00:00.000Z"
    assert ti.pushed == [("job_id", "job-1", 2)]  # token + POST done, no status GET yet
    assert get.call_count == 2
    assert STATE_KEY not in store  # the job ended: a later rerun imports anew


def test_without_wait_returns_the_submitted_job(gateway, requests_mock):
    requests_mock.post(f"{BULK}/importJobs", status_code=201, headers={"Location": f"{BULK}/importJobs/job-2"})
    get = requests_mock.get(f"{BULK}/importJobs/job-2", json=DONE)
    assert operator(wait=False).execute(context(ti=FakeTI(requests_mock))) == {"job_id": "job-2", "status": "SUBMITTED"}
    assert not get.called


def test_a_job_in_error_fails_with_the_jobs_message(gateway, requests_mock):
    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    requests_mock.get(
        f"{BULK}/importJobs/job-1", json={"id": "job-1", "status": "ERROR", "message": "_time not sorted"}
    )
    store = FakeStore()
    with pytest.raises(MdspJobFailedError, match="job-1 ended in ERROR: _time not sorted"):
        operator(deferrable=False).execute(context(ti=FakeTI(requests_mock), task_state_store=store))
    assert STATE_KEY not in store  # a retry submits a new job


def test_a_retry_waits_for_the_job_of_the_earlier_try_instead_of_submitting(gateway, requests_mock):
    post = requests_mock.post(f"{BULK}/importJobs", json={"id": "dup"})
    requests_mock.get(f"{BULK}/importJobs/job-1", json=DONE)
    ti = FakeTI(requests_mock)
    assert (
        operator(deferrable=False).execute(context(ti=ti, task_state_store=FakeStore({STATE_KEY: "job-1"}))) == SUMMARY
    )
    assert not post.called
    assert ti.pushed[0][:2] == ("job_id", "job-1")  # XCom of the new try names the job again


def test_before_airflow_3_3_the_xcom_of_the_task_is_the_fallback(gateway, requests_mock):
    post = requests_mock.post(f"{BULK}/importJobs", json={"id": "dup"})
    requests_mock.get(f"{BULK}/importJobs/job-1", json=DONE)
    assert operator(deferrable=False).execute(context(ti=FakeTI(requests_mock, pulled="job-1")))["job_id"] == "job-1"
    assert not post.called


def test_a_wait_that_times_out_keeps_the_job_for_the_retry(gateway, requests_mock):
    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    requests_mock.get(f"{BULK}/importJobs/job-1", json={"id": "job-1", "status": "IN_PROGRESS"})
    store = FakeStore()
    with pytest.raises(MdspWaitTimeoutError, match="keeps running"):
        operator(deferrable=False, timeout=0).execute(context(ti=FakeTI(requests_mock), task_state_store=store))
    assert store[STATE_KEY] == "job-1"


def test_a_rate_limited_status_check_in_the_worker_waits_as_asked_like_the_trigger(
    gateway, requests_mock, manual_clock
):
    quota = {"status_code": 429, "headers": {"Retry-After": "1800"}, "json": {"message": "Quota exceeded"}}
    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    get = requests_mock.get(f"{BULK}/importJobs/job-1", [quota, {"json": DONE}])
    store = FakeStore()
    result = operator(deferrable=False, poll_interval=30).execute(
        context(ti=FakeTI(requests_mock), task_state_store=store)
    )
    assert result == SUMMARY  # not a failed try: the job is waited for, as the triggerer would
    assert get.call_count == 2
    assert manual_clock.sleeps == [1800.0], "the next check waited the Retry-After, not the poll interval"


def test_a_rate_limited_status_check_in_the_worker_never_waits_past_the_timeout(gateway, requests_mock, manual_clock):
    quota = {"status_code": 429, "headers": {"Retry-After": "1800"}, "json": {"message": "Quota exceeded"}}
    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    requests_mock.get(f"{BULK}/importJobs/job-1", [quota])
    store = FakeStore()
    with pytest.raises(MdspWaitTimeoutError, match="keeps running"):
        operator(deferrable=False, poll_interval=30, timeout=600).execute(
            context(ti=FakeTI(requests_mock), task_state_store=store)
        )
    assert sum(manual_clock.sleeps) == pytest.approx(600)
    assert store[STATE_KEY] == "job-1"


def test_deferrable_submits_then_defers_to_the_job_trigger(gateway, requests_mock):
    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    get = requests_mock.get(f"{BULK}/importJobs/job-1", json=DONE)
    op = operator(deferrable=True, timeout=timedelta(minutes=5))
    store = FakeStore()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context(ti=FakeTI(requests_mock), task_state_store=store))
    trigger = deferred.value.trigger
    assert isinstance(trigger, MdspBulkImportJobTrigger)
    assert (trigger.job_id, trigger.poll_interval) == ("job-1", 0)
    assert trigger.timeout_at is not None
    assert deferred.value.timeout > timedelta(minutes=5)
    assert not get.called  # a job just submitted is not done: no check before deferring
    assert store[STATE_KEY] == "job-1"
    # The triggerer runs the trigger; the task resumes with its event.
    assert op.execute_complete(context(task_state_store=store), first_event(trigger)) == SUMMARY
    assert STATE_KEY not in store


def test_deferrable_retry_of_a_finished_job_returns_without_deferring(gateway, requests_mock):
    requests_mock.get(f"{BULK}/importJobs/job-1", json=DONE)
    run = context(ti=FakeTI(requests_mock), task_state_store=FakeStore({STATE_KEY: "job-1"}))
    assert operator(deferrable=True).execute(run) == SUMMARY


def test_execute_complete_turns_error_and_timeout_events_into_failures():
    op, store = operator(), FakeStore({STATE_KEY: "job-1"})
    with pytest.raises(MdspWaitTimeoutError):
        op.execute_complete(context(task_state_store=store), {"status": "timeout", "message": "deadline"})
    assert store[STATE_KEY] == "job-1"
    unreachable = {"status": "error", "message": "GET …/importJobs/job-1: HTTP 503 Service Unavailable"}
    with pytest.raises(Exception, match="503"):
        op.execute_complete(context(task_state_store=store), unreachable)
    assert store[STATE_KEY] == "job-1"  # the job may still run: a retry waits for it
    failed = {"status": "error", "message": "Bulk import job job-1 ended in ERROR: bad", "job_failed": True}
    with pytest.raises(MdspJobFailedError, match="bad"):
        op.execute_complete(context(task_state_store=store), failed)
    assert STATE_KEY not in store


def test_bad_parameters_are_refused(gateway, requests_mock):
    with pytest.raises(ValueError, match="poll_interval"):
        MdspBulkImportOperator(task_id="i", entity_id=ASSET, aspect="A", files=FILES, poll_interval=-1)
    post = requests_mock.post(f"{BULK}/importJobs", json={"id": "never"})
    with pytest.raises(ValueError, match="files"):
        MdspBulkImportOperator(task_id="i", entity_id=ASSET, aspect="A", files="x").execute(context())
    assert not post.called


def test_a_failing_status_check_in_the_worker_keeps_the_job_for_the_retry(gateway, requests_mock):
    from airflow_provider_mdsp.exceptions import MdspServerError

    requests_mock.post(f"{BULK}/importJobs", json={"id": "job-1"})
    requests_mock.get(f"{BULK}/importJobs/job-1", status_code=500, json={"status": 500, "error": "x", "path": "/"})
    store = FakeStore()
    with pytest.raises(MdspServerError):
        operator(deferrable=False).execute(context(ti=FakeTI(requests_mock), task_state_store=store))
    assert store[STATE_KEY] == "job-1"


class FakeVariables(dict):
    """Airflow Variables as a task runner before 3.3 offers them (get/set/delete by key)."""

    def install(self, monkeypatch):
        from airflow.sdk import Variable

        monkeypatch.setattr(Variable, "get", classmethod(lambda cls, key, default=None: self.get(key, default)))
        monkeypatch.setattr(Variable, "set", classmethod(lambda cls, key, value: self.__setitem__(key, value)))
        monkeypatch.setattr(Variable, "delete", classmethod(lambda cls, key: self.pop(key, None)))
        return self


def retry_ti(requests_mock):
    """A task instance with its identity, as every try of one task instance has it."""
    ti = FakeTI(requests_mock)
    ti.dag_id, ti.task_id, ti.run_id, ti.map_index = "imports", "import", "manual__1", -1
    return ti


FIRST = {"_time": "2024-05-01T00:00:00.000Z", "Speed": 1.5}


def test_before_3_3_a_lost_submission_is_not_resubmitted_by_the_retry(gateway, requests_mock, monkeypatch):
    import requests

    from airflow_provider_mdsp.exceptions import MdspServerError

    variables = FakeVariables().install(monkeypatch)
    post = requests_mock.post(f"{BULK}/importJobs", exc=requests.exceptions.ConnectionError("reset by peer"))
    requests_mock.get(f"{FILE_API}/{ASSET}/import/day1.json", status_code=500, json={"id": "", "message": "down"})
    with pytest.raises(MdspServerError):  # try 1: the job may exist, and the check of its effect fails too
        operator(deferrable=False).execute(context(ti=retry_ti(requests_mock)))
    assert post.call_count == 1
    [key] = variables
    assert key == "mdsp_try_state:imports:import:-1:manual__1"
    assert "mdsp_bulk_import_pending" in json.loads(variables[key])
    requests_mock.get(f"{FILE_API}/{ASSET}/import/day1.json", text=json.dumps([FIRST, {**FIRST, "Speed": 2}]))
    requests_mock.get(
        f"{BULK}/timeseries/{ASSET}/Vibration", [{"json": {"records": []}}, {"json": {"records": [FIRST]}}]
    )
    result = operator(deferrable=False).execute(context(ti=retry_ti(requests_mock)))  # try 2
    assert (result["status"], result["job_id"]) == ("SUCCESS", None)
    assert post.call_count == 1, "no second job for the same files"
    assert variables == {}, "the memory of the task instance is gone once the import is done"


def test_a_lost_submission_whose_records_never_arrive_times_out_and_lets_the_next_try_submit(gateway, requests_mock):
    import requests

    post = requests_mock.post(f"{BULK}/importJobs", exc=requests.exceptions.ReadTimeout("slow"))
    requests_mock.get(f"{FILE_API}/{ASSET}/import/day1.json", text=json.dumps([FIRST]))
    requests_mock.get(f"{BULK}/timeseries/{ASSET}/Vibration", json={"records": [{**FIRST, "Speed": 9.0}]})
    store = FakeStore()
    with pytest.raises(MdspWaitTimeoutError, match="answer was lost"):
        operator(deferrable=False, timeout=0).execute(context(ti=FakeTI(requests_mock), task_state_store=store))
    assert post.call_count == 1
    assert store == {}, "a record with other values is not this import: the next try submits again"
