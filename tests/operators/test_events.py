"""Event operators: the window becomes a ``between`` term, results are bounded, creates never duplicate."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.events import MdspCreateEventOperator, MdspQueryEventsOperator
from tests.helpers.gateway import ASSET, EM, connect, context, events_page, query, sent_filter

WINDOW = {"between": "[2024-05-01T00:00:00.000Z, 2024-05-02T00:00:00.000Z)"}


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def ev(i):
    return {"id": f"e{i}", "timestamp": f"2024-05-01T0{i}:00:00.000Z", "entityId": ASSET}


def test_query_adds_the_data_interval_as_a_half_open_between_term_and_pages_to_the_end(gateway, requests_mock):
    api = requests_mock.get(
        f"{EM}/events", [{"json": events_page([ev(1), ev(2)], total_pages=2)}, {"json": events_page([ev(3)], 2)}]
    )
    op = MdspQueryEventsOperator(task_id="q", type_id="acme.Alarm", entity_id=ASSET, filter='{"severity": 1}')
    result = op.execute(context())
    assert result == {
        "records": 3,
        "first_time": "2024-05-01T01:00:00.000Z",
        "last_time": "2024-05-01T03:00:00.000Z",
        "data": [ev(1), ev(2), ev(3)],
        "from": "2024-05-01T00:00:00.000Z",
        "to": "2024-05-02T00:00:00.000Z",
    }
    assert [query(r)["page"] for r in api.request_history] == ["0", "1"]
    assert sent_filter(api.last_request) == {
        "severity": 1,
        "typeId": "acme.Alarm",
        "entityId": ASSET,
        "timestamp": WINDOW,
    }
    q = query(api.last_request)
    assert (q["sort"], q["history"], q["size"]) == ("timestamp,asc", "false", "100")
    json.dumps(result)  # plain JSON for XCom


def test_query_explicit_times_win_over_the_interval(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page([]))
    op = MdspQueryEventsOperator(task_id="q", from_time="2024-04-01T00:00:00Z", to_time="2024-04-02T00:00:00+00:00")
    assert op.execute(context())["records"] == 0
    assert sent_filter(api.last_request)["timestamp"] == {
        "between": "[2024-04-01T00:00:00.000Z, 2024-04-02T00:00:00.000Z)"
    }


def test_query_keeps_the_filters_own_timestamp_term_unless_times_are_given(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page([]))
    own = {"timestamp": {"after": "2024-01-01T00:00:00Z"}}
    result = MdspQueryEventsOperator(task_id="q", filter=own).execute(context())
    assert sent_filter(api.last_request) == own
    assert (result["from"], result["to"]) == (None, None)
    with pytest.raises(MdspConfigError) as err:
        MdspQueryEventsOperator(task_id="q", filter=own, from_time="2024-01-02T00:00:00Z").execute(context())
    assert err.value.field == "filter"


def test_query_beyond_the_xcom_bound_names_output_path(gateway, requests_mock):
    requests_mock.get(f"{EM}/events", json=events_page([ev(1), ev(2), ev(3)]))
    with pytest.raises(MdspConfigError) as err:
        MdspQueryEventsOperator(task_id="q", max_xcom_records=2).execute(context())
    assert err.value.field == "output_path"


def test_query_streams_to_output_path_and_returns_the_path(gateway, requests_mock, tmp_path):
    requests_mock.get(f"{EM}/events", json=events_page([ev(1), ev(2)]))
    target = tmp_path / "events" / "day.jsonl"
    result = MdspQueryEventsOperator(task_id="q", output_path=f"file://{target}", max_xcom_records=0).execute(context())
    assert result["records"] == 2
    assert result["path"].endswith("events/day.jsonl")
    assert [json.loads(line) for line in target.read_text().splitlines()] == [ev(1), ev(2)]
    assert (result["from"], result["to"]) == ("2024-05-01T00:00:00.000Z", "2024-05-02T00:00:00.000Z")


def test_query_without_a_data_interval_reads_the_day_before_the_run(gateway, requests_mock):
    api = requests_mock.get(f"{EM}/events", json=events_page([]))
    run = context(start=None, end=None, dag_run=SimpleNamespace(run_after=datetime(2024, 6, 1, tzinfo=timezone.utc)))
    MdspQueryEventsOperator(task_id="q").execute(run)
    assert sent_filter(api.last_request)["timestamp"] == {
        "between": "[2024-05-31T00:00:00.000Z, 2024-06-01T00:00:00.000Z)"
    }


def ti(try_number=1):
    return SimpleNamespace(try_number=try_number, run_id="scheduled__2024-05-02", map_index=-1)


def test_create_sends_a_standard_event_with_defaults_and_a_stable_correlation_id(gateway, requests_mock):
    post = requests_mock.post(f"{EM}/events", status_code=201, json={"id": "new-1"})
    op = MdspCreateEventOperator(
        task_id="alarm", entity_id=ASSET, severity=1, description="Line stopped", source="airflow", acknowledged=False
    )
    run = context(ti=ti(), run_id="scheduled__2024-05-02")
    assert op.execute(run) == {"created": 1, "existing": 0, "event_ids": ["new-1"]}
    sent = post.last_request.json()
    assert sent == {
        "entityId": ASSET,
        "severity": 1,
        "description": "Line stopped",
        "source": "airflow",
        "acknowledged": False,
        "timestamp": "2024-05-02T00:00:00.000Z",  # the data interval end
        "correlationId": sent["correlationId"],
    }
    assert uuid.UUID(sent["correlationId"]).version == 5
    assert op.build_events(run)[0]["correlationId"] == sent["correlationId"]  # same on every try


def test_create_several_custom_events_with_fields(gateway, requests_mock):
    post = requests_mock.post(f"{EM}/events", [{"status_code": 201, "json": {"id": "a"}}, {"json": {"id": "b"}}])
    op = MdspCreateEventOperator(
        task_id="alarm",
        entity_id=ASSET,
        type_id="acme.PumpAlarm",
        fields={"pressure": 3.5},
        events=[{"timestamp": "2024-05-01T10:00:00Z"}, {"entityId": "b" * 32, "pressure": 9.0}],
    )
    assert op.execute(context(ti=ti(), run_id="r")) == {"created": 2, "existing": 0, "event_ids": ["a", "b"]}
    first, second = (r.json() for r in post.request_history)
    assert (first["typeId"], first["pressure"], first["entityId"]) == ("acme.PumpAlarm", 3.5, ASSET)
    assert first["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert (second["entityId"], second["pressure"]) == ("b" * 32, 9.0)
    assert first["correlationId"] != second["correlationId"]


def test_a_retried_task_does_not_create_the_event_its_earlier_try_created(gateway, requests_mock):
    op = MdspCreateEventOperator(task_id="alarm", entity_id=ASSET, type_id="acme.PumpAlarm")
    run = context(ti=ti(try_number=2), run_id="scheduled__2024-05-02")
    correlation = op.build_events(run)[0]["correlationId"]
    lookup = requests_mock.get(f"{EM}/events", json=events_page([{"id": "old", "correlationId": correlation}]))
    post = requests_mock.post(f"{EM}/events", json={"id": "dup"})
    assert op.execute(run) == {"created": 0, "existing": 1, "event_ids": ["old"]}
    assert not post.called
    terms = sent_filter(lookup.last_request)
    assert (terms["entityId"], terms["correlationId"], terms["typeId"]) == (ASSET, correlation, "acme.PumpAlarm")
    assert terms["timestamp"]["between"].startswith("[2024-04-25T00:00:00.000Z")
    assert query(lookup.last_request)["history"] == "true"


def test_a_first_try_creates_without_looking_up(gateway, requests_mock):
    lookup = requests_mock.get(f"{EM}/events", json=events_page([]))
    requests_mock.post(f"{EM}/events", json={"id": "new"})
    MdspCreateEventOperator(task_id="alarm", entity_id=ASSET).execute(context(ti=ti(), run_id="r"))
    assert not lookup.called


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "entity_id"),
        ({"entity_id": ASSET, "events": {"not": "a list"}}, "events"),
        ({"entity_id": ASSET, "events": ["nope"]}, "events"),
        ({"entity_id": ASSET, "fields": ["x"]}, "fields"),
        ({"entity_id": ASSET, "timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_create_refuses_bad_parameters_before_any_request(kwargs, field, requests_mock):
    with pytest.raises(MdspConfigError) as err:
        MdspCreateEventOperator(task_id="alarm", **kwargs).build_events(context())
    assert err.value.field == field
    assert not requests_mock.called
