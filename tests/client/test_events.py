"""Event Management: searches, and event creation that never duplicates after an ambiguous failure."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from airflow_provider_mdsp.client import events as ev
from airflow_provider_mdsp.exceptions import MdspBadRequestError, MdspConfigError, MdspServerError, MdspTimeoutError

from .conftest import GATEWAY, query

EM = f"{GATEWAY}/api/eventmanagement/v3"
EVENT = {"entityId": "a" * 32, "timestamp": "2024-05-01T10:00:00Z", "typeId": "acme.Alarm", "severity": 1}


def page(items, total_pages=1):
    body = {"page": {"number": 0, "size": 100, "totalPages": total_pages}}
    if items:
        body["_embedded"] = {"events": items}
    return body


def test_search_sends_filter_sort_history_and_size(client, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=page([{"id": "1"}]))
    between = {"between": "[2024-01-01T00:00:00.000Z, 2024-02-01T00:00:00.000Z)"}
    got = list(client.events.iter_events(filter={"timestamp": between}, sort="timestamp,asc", history=True))
    assert got == [{"id": "1"}]
    q = query(api.last_request)
    assert json.loads(q["filter"]) == {"timestamp": between}
    assert (q["sort"], q["history"], q["size"]) == ("timestamp,asc", "true", "100")
    assert "[" not in api.last_request.url  # RFC 3986-strict gateway (§1)


def test_get_event_and_event_types(client, requests_mock):
    requests_mock.get(f"{EM}/events/e%201", json={"id": "e 1"})
    requests_mock.get(f"{EM}/eventTypes", json={"_embedded": {"eventTypes": [{"id": "acme.Alarm"}]}, "page": {}})
    requests_mock.get(f"{EM}/eventTypes/acme.Alarm", json={"id": "acme.Alarm"})
    created = requests_mock.post(f"{EM}/eventTypes", status_code=201, json={"id": "acme.New"})
    assert client.events.get_event("e 1") == {"id": "e 1"}
    assert list(client.events.iter_event_types()) == [{"id": "acme.Alarm"}]
    assert client.events.get_event_type("acme.Alarm") == {"id": "acme.Alarm"}
    assert client.events.create_event_type({"name": "New", "fields": []}) == {"id": "acme.New"}
    assert created.last_request.json() == {"name": "New", "fields": []}


def test_create_adds_a_correlation_id_and_normalises_the_timestamp(client, requests_mock):
    post = requests_mock.post(f"{EM}/events", status_code=201, json={"id": "new"})
    assert client.events.create_event(EVENT) == {"id": "new"}
    sent = post.last_request.json()
    uuid.UUID(sent["correlationId"])
    assert sent["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert sent["severity"] == 1
    assert "correlationId" not in EVENT  # the caller's dict is left alone


def test_create_keeps_a_given_correlation_id_and_defaults_the_time_to_now(client, requests_mock):
    post = requests_mock.post(f"{EM}/events", status_code=201, json={})
    before = datetime.now(timezone.utc).replace(microsecond=0)
    client.events.create_event({"entityId": "x", "correlationId": "c-1"})
    sent = post.last_request.json()
    assert sent["correlationId"] == "c-1"
    assert datetime.fromisoformat(sent["timestamp"].replace("Z", "+00:00")) >= before


def test_an_event_needs_an_entity(client, requests_mock):
    with pytest.raises(MdspConfigError) as err:
        client.events.create_event({"timestamp": "2024-05-01T10:00:00Z"})
    assert err.value.field == "entityId"
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "failure",
    [{"exc": requests.exceptions.ReadTimeout}, {"status_code": 504}, {"status_code": 502}],
    ids=["read-timeout", "504", "502"],
)
def test_after_an_ambiguous_failure_a_created_event_is_found_not_posted_again(client, requests_mock, failure):
    post = requests_mock.post(f"{EM}/events", [failure])
    found = {"id": "ev-1", "correlationId": None}

    def search(request, context):
        found["correlationId"] = json.loads(query(request)["filter"])["correlationId"]
        return page([found])

    lookup = requests_mock.get(f"{EM}/events", json=search)
    sleeps = []
    assert client.events.create_event(EVENT, sleep=sleeps.append) == found
    assert post.call_count == 1
    assert sleeps == [ev.EVENT_VISIBILITY_WAITS[0]]
    q = query(lookup.last_request)
    terms = json.loads(q["filter"])
    assert q["history"] == "true"
    assert terms["entityId"] == EVENT["entityId"]
    assert terms["typeId"] == "acme.Alarm"
    assert terms["correlationId"] == json.loads(post.last_request.body)["correlationId"]
    # A timestamp term, or the search would only cover the last 7 days (§6).
    assert terms["timestamp"] == {"between": "[2024-05-01T09:59:59.000Z, 2024-05-01T10:00:01.000Z)"}


def test_when_the_event_is_not_found_it_is_posted_again_with_the_same_correlation(client, requests_mock):
    post = requests_mock.post(
        f"{EM}/events", [{"exc": requests.exceptions.ReadTimeout}, {"status_code": 201, "json": {"id": "ev-2"}}]
    )
    lookup = requests_mock.get(f"{EM}/events", json=page([]))
    sleeps = []
    assert client.events.create_event(EVENT, sleep=sleeps.append) == {"id": "ev-2"}
    assert post.call_count == 2
    assert lookup.call_count == len(ev.EVENT_VISIBILITY_WAITS)
    assert sleeps == list(ev.EVENT_VISIBILITY_WAITS)
    first, second = (r.json()["correlationId"] for r in post.request_history)
    assert first == second


def test_a_search_hit_of_another_correlation_does_not_count(client, requests_mock):
    requests_mock.post(f"{EM}/events", [{"status_code": 504}, {"status_code": 201, "json": {"id": "mine"}}])
    requests_mock.get(f"{EM}/events", json=page([{"id": "other", "correlationId": "someone-else"}]))
    assert client.events.create_event(EVENT, sleep=lambda s: None) == {"id": "mine"}


@pytest.mark.parametrize(
    ("window", "term"),
    [
        (ev.EXACT_LOOKUP_WINDOW, {"between": "[2024-05-01T09:59:59.000Z, 2024-05-01T10:00:01.000Z)"}),
        (timedelta(days=7), {"between": "[2024-04-24T10:00:00.000Z, 2024-05-08T10:00:00.000Z)"}),
        (None, None),  # no timestamp: the service's last 7 days
    ],
    ids=["exact", "a-week", "no-timestamp"],
)
def test_the_one_lookup_by_correlation_id_searches_the_window_it_is_given(client, requests_mock, window, term):
    event = {**EVENT, "correlationId": "c-1"}
    if window is None:
        del event["timestamp"]
    mine = {"id": "mine", "correlationId": "c-1"}
    lookup = requests_mock.get(f"{EM}/events", json=page([{"id": "other", "correlationId": "c-2"}, mine]))
    assert client.events.find_by_correlation(event, window=window or ev.EXACT_LOOKUP_WINDOW) == mine
    terms = json.loads(query(lookup.last_request)["filter"])
    assert terms.get("timestamp") == term
    assert (terms["correlationId"], terms["entityId"], terms["typeId"]) == ("c-1", EVENT["entityId"], "acme.Alarm")
    assert query(lookup.last_request)["history"] == "true"


def test_attempts_are_bounded_and_the_last_error_is_raised(client, requests_mock):
    post = requests_mock.post(f"{EM}/events", exc=requests.exceptions.ReadTimeout)
    requests_mock.get(f"{EM}/events", json=page([]))
    with pytest.raises(MdspTimeoutError):
        client.events.create_event(EVENT, sleep=lambda s: None)
    assert post.call_count == ev.CREATE_EVENT_ATTEMPTS


def test_a_definite_refusal_is_raised_at_once_without_lookup(client, requests_mock):
    post = requests_mock.post(f"{EM}/events", status_code=400, json=[{"logref": "L", "message": "bad typeId"}])
    with pytest.raises(MdspBadRequestError):
        client.events.create_event(EVENT, sleep=lambda s: None)
    assert post.call_count == 1
    assert requests_mock.call_count == 1


def test_a_500_is_not_treated_as_ambiguous(client, requests_mock):
    requests_mock.post(f"{EM}/events", status_code=500)
    with pytest.raises(MdspServerError):
        client.events.create_event(EVENT, sleep=lambda s: None)
    assert requests_mock.call_count == 1


def test_a_page_size_above_100_is_refused_before_sending(client, requests_mock):
    with pytest.raises(MdspConfigError, match=r"1\.\.100") as err:
        client.events.iter_event_pages(size=500)
    assert err.value.field == "size"
    with pytest.raises(MdspConfigError):
        client.events.iter_event_types(size=101)
    assert not requests_mock.called
