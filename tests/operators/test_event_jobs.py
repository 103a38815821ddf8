"""Event job operators: a re-run sends only the events that are not there yet, and a failed job fails the task."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspJobFailedError
from airflow_provider_mdsp.operators.event_jobs import MdspCreateEventsJobOperator, MdspDeleteEventsJobOperator
from tests.helpers.gateway import ASSET, EM, connect, events_page

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
