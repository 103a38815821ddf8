"""Event Management bulk jobs: the exact requests N:sdk/event describes, and the refusals made before sending."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_mdsp.client.event_jobs import MAX_EVENTS_PER_JOB, check_delete_filter
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConnectionError

from .conftest import GATEWAY

EM = f"{GATEWAY}/api/eventmanagement/v3"
EVENT = {"entityId": "a1", "timestamp": "2026-05-01T00:00:00Z", "typeId": "acme.Alarm"}


def test_a_create_job_posts_the_events_once(client, requests_mock):
    api = requests_mock.post(f"{EM}/createEventsJobs", status_code=201, json={"id": "j1", "state": "ACCEPTED"})
    assert client.event_jobs.create_events_job([EVENT, EVENT])["id"] == "j1"
    assert api.last_request.json() == {"events": [EVENT, EVENT]}
    requests_mock.post(f"{EM}/createEventsJobs", exc=requests.exceptions.ReadTimeout)
    with pytest.raises(MdspConnectionError):
        client.event_jobs.create_events_job([EVENT])
    assert requests_mock.call_count == 2  # not resent once it may have arrived


def test_a_create_job_takes_1_to_50_events(client):
    with pytest.raises(MdspConfigError, match="1 to 50"):
        client.event_jobs.create_events_job([EVENT] * (MAX_EVENTS_PER_JOB + 1))
    with pytest.raises(MdspConfigError):
        client.event_jobs.create_events_job([])


def test_a_delete_job_sends_its_filter_as_an_object(client, requests_mock):
    api = requests_mock.post(f"{EM}/deleteEventsJobs", status_code=201, json={"id": "d1", "state": "ACCEPTED"})
    client.event_jobs.delete_events_job('{"typeId": "acme.Alarm", "timestamp": {"before": "2026-01-01T00:00:00Z"}}')
    assert api.last_request.json() == {
        "filter": {"typeId": "acme.Alarm", "timestamp": {"before": "2026-01-01T00:00:00Z"}}
    }


@pytest.mark.parametrize(
    "bad",
    [{"entityId": "a"}, {"typeId": {"in": {"value": ["a", "b"]}}}, {"or": {"typeId": "a"}}, {"typeId": ""}],
)
def test_a_delete_filter_must_name_one_type_by_equality(bad):
    with pytest.raises(MdspConfigError, match="filter"):
        check_delete_filter(bad)


def test_jobs_are_read_at_their_kinds_path(client, requests_mock):
    create = requests_mock.get(f"{EM}/createEventsJobs/j%2F1", json={"id": "j/1", "state": "FINISHED"})
    delete = requests_mock.get(f"{EM}/deleteEventsJobs/d1", json={"id": "d1", "state": "IN_PROGRESS"})
    assert client.event_jobs.get_events_job("create", "j/1")["state"] == "FINISHED"
    assert client.event_jobs.get_events_job("delete", "d1")["state"] == "IN_PROGRESS"
    assert create.called
    assert delete.called
    with pytest.raises(MdspConfigError, match="kind"):
        client.event_jobs.get_events_job("update", "x")
