"""Event job operators: a re-run sends only the events that are not there yet, a failed job fails the task,
each job is submitted once (a retry waits for the job its earlier try left) and waited for in the worker
or the triggerer."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta

import pytest

from airflow_provider_mdsp.exceptions import MdspJobFailedError, MdspWaitTimeoutError
from airflow_provider_mdsp.operators.event_jobs import (
    MEMORY_PREFIX,
    MdspCreateEventsJobOperator,
    MdspDeleteEventsJobOperator,
)
from airflow_provider_mdsp.triggers.event_jobs import MdspEventsJobTrigger
from tests.helpers.gateway import ASSET, EM, FakeStore, TaskDeferred, connect, events_page, query
from tests.helpers.triggers import first_event

JOB_KEY = MEMORY_PREFIX + "job_id"

EVENTS = [{"entityId": ASSET, "timestamp": "2026-05-01T00:00:00.000Z", "description": f"e{i}"} for i in range(3)]


@pytest.fixture
def gateway(mdsp_connection, requests_mock, manual_clock):
    return connect(mdsp_connection, requests_mock)


def run_context():
    return {"run_id": "manual__1", "ti": None}


def test_events_already_there_are_not_sent_again(gateway, requests_mock):
    op = MdspCreateEventsJobOperator(task_id="create", events=EVENTS)
    there = op._correlation_id(run_context(), 1)

    def search(request, context):
        return events_page([{"id": "x", "correlationId": there}] if there in request.url else [])

    requests_mock.get(f"{EM}/events", json=search)
    post = requests_mock.post(f"{EM}/createEventsJobs", json={"id": "j1", "state": "ACCEPTED"})
    requests_mock.get(
        f"{EM}/createEventsJobs/j1", [{"json": {"state": "IN_PROGRESS"}}, {"json": {"state": "FINISHED"}}]
    )
    assert op.execute(run_context()) == {"created": 2, "skipped": 1, "job_ids": ["j1"]}
    sent = post.last_request.json()["events"]
    assert [e["description"] for e in sent] == ["e0", "e2"]
    assert all(e["correlationId"] != there for e in sent)


def test_a_delete_job_finishing_with_errors_fails_the_task(gateway, requests_mock):
    requests_mock.post(f"{EM}/deleteEventsJobs", json={"id": "d1", "state": "ACCEPTED"})
    requests_mock.get(
        f"{EM}/deleteEventsJobs/d1", json={"state": "FINISHED_WITH_ERROR", "details": {"resultCode": "409"}}
    )
    op = MdspDeleteEventsJobOperator(task_id="delete", filter={"typeId": "acme.Alarm"})
    with pytest.raises(MdspJobFailedError, match="409"):
        op.execute(run_context())


def many_events(n):
    return [{"entityId": ASSET, "timestamp": "2026-05-01T00:00:00.000Z", "description": f"e{i}"} for i in range(n)]


def test_deferrable_create_defers_once_per_job_and_resumes_from_plain_json(gateway, requests_mock):
    search = requests_mock.get(f"{EM}/events", json=events_page([]))
    post = requests_mock.post(f"{EM}/createEventsJobs", [{"json": {"id": "j1"}}, {"json": {"id": "j2"}}])
    for job in ("j1", "j2"):
        requests_mock.get(f"{EM}/createEventsJobs/{job}", json={"id": job, "state": "FINISHED"})
    op = MdspCreateEventsJobOperator(task_id="create", events=many_events(60), deferrable=True, timeout=300)
    store = FakeStore()
    run = {**run_context(), "task_state_store": store}
    with pytest.raises(TaskDeferred) as first:
        op.execute(run)
    trigger = first.value.trigger
    assert isinstance(trigger, MdspEventsJobTrigger)
    assert (trigger.kind, trigger.job_id, trigger.timeout_at is not None) == ("create", "j1", True)
    assert first.value.timeout > timedelta(seconds=300)
    assert store[JOB_KEY] == "create:j1"  # remembered before waiting: a retry waits for it
    with pytest.raises(TaskDeferred) as second:
        op.execute_complete(run, json.loads(json.dumps(first_event(trigger))))  # the event alone, plain JSON
    assert (second.value.trigger.job_id, store[JOB_KEY]) == ("j2", "create:j2")
    result = op.execute_complete(run, json.loads(json.dumps(first_event(second.value.trigger))))
    assert result == {"created": 60, "skipped": 0, "job_ids": ["j1", "j2"]}
    assert [len(r.json()["events"]) for r in post.request_history] == [50, 10]
    assert search.call_count == 60  # the missing events are planned once, not on every resume
    assert JOB_KEY not in store


def test_a_retry_waits_for_the_job_its_earlier_try_left_and_submits_nothing_twice(gateway, requests_mock):
    def search(request, context):  # the job created them all: each lookup finds its event
        correlation = json.loads(query(request)["filter"])["correlationId"]
        return events_page([{"id": "x", "correlationId": correlation}])

    requests_mock.get(f"{EM}/events", json=search)
    post = requests_mock.post(f"{EM}/createEventsJobs", json={"id": "other"})
    job = requests_mock.get(
        f"{EM}/createEventsJobs/j1", [{"json": {"state": "IN_PROGRESS"}}, {"json": {"state": "FINISHED"}}]
    )
    store = FakeStore({JOB_KEY: "create:j1"})
    op = MdspCreateEventsJobOperator(task_id="create", events=EVENTS, poll_interval=1)
    assert op.execute({**run_context(), "task_state_store": store}) == {"created": 0, "skipped": 3, "job_ids": ["j1"]}
    assert (post.called, job.call_count) == (False, 2)
    assert JOB_KEY not in store


def test_a_job_still_running_at_the_timeout_stays_remembered_for_the_retry(gateway, requests_mock):
    requests_mock.post(f"{EM}/deleteEventsJobs", json={"id": "d1", "state": "ACCEPTED"})
    requests_mock.get(f"{EM}/deleteEventsJobs/d1", json={"state": "IN_PROGRESS"})
    store = FakeStore()
    op = MdspDeleteEventsJobOperator(task_id="delete", filter={"typeId": "acme.Alarm"}, timeout=10)
    with pytest.raises(MdspWaitTimeoutError, match="d1 did not finish within 10 s"):
        op.execute({**run_context(), "task_state_store": store})
    assert store[JOB_KEY] == "delete:d1"


def test_a_deferred_delete_job_with_errors_fails_the_task_and_is_forgotten(gateway, requests_mock):
    requests_mock.post(f"{EM}/deleteEventsJobs", json={"id": "d1", "state": "ACCEPTED"})
    requests_mock.get(
        f"{EM}/deleteEventsJobs/d1",
        [{"json": {"state": "IN_PROGRESS"}}, {"json": {"state": "FINISHED_WITH_ERROR", "details": "concurrent"}}],
    )
    store = FakeStore()
    run = {**run_context(), "task_state_store": store}
    op = MdspDeleteEventsJobOperator(task_id="delete", filter={"typeId": "acme.Alarm"}, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(run)
    trigger = deferred.value.trigger
    trigger.poll_interval = 0.01
    event = first_event(trigger)
    assert (event["status"], event["result"]["state"]) == ("error", "FINISHED_WITH_ERROR")
    with pytest.raises(MdspJobFailedError, match="Event delete job d1 finished with errors: concurrent"):
        op.execute_complete(run, event)
    assert JOB_KEY not in store


def test_the_trigger_carries_the_subtenant_and_rebuilds_from_plain_json(gateway, requests_mock):
    requests_mock.post(f"{EM}/deleteEventsJobs", json={"id": "d1"})
    op = MdspDeleteEventsJobOperator(task_id="delete", filter={"typeId": "a.B"}, deferrable=True, sub_tenant="sub-a")
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(run_context())
    path, kwargs = deferred.value.trigger.serialize()
    module, name = path.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert (rebuilt.kind, rebuilt.job_id, rebuilt.sub_tenant) == ("delete", "d1", "sub-a")
    assert rebuilt.make_hook().sub_tenant == "sub-a"
    assert rebuilt.serialize() == (path, kwargs)
