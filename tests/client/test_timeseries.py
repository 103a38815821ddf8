"""IoT Time Series: reads, chunked writes, multi-entity writes with per-pair errors, deletes."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.client import timeseries as ts
from airflow_provider_mdsp.exceptions import MdspConfigError

from .conftest import GATEWAY, query

BASE = f"{GATEWAY}/api/iottimeseries/v3/timeseries"
ENTITY = "e" * 32
URL = f"{BASE}/{ENTITY}/Vibration"
T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def records(n, *, pad=0, start=0):
    return [
        {"_time": f"2024-05-01T00:00:{(start + i) % 60:02d}.{(start + i) // 60:03d}Z", "v": i, "s": "x" * pad}
        for i in range(n)
    ]


def test_read_sends_the_range_in_utc_milliseconds_and_follows_links(client, requests_mock):
    requests_mock.get(
        URL,
        [
            {"json": [{"_time": "a"}], "headers": {"Link": f'<{URL}?from=a&to=b>; rel="next"'}},
            {"json": [{"_time": "b"}]},
        ],
    )
    got = list(
        client.timeseries.iter_timeseries(
            ENTITY, "Vibration", from_=T0, to="2024-05-02T02:00:00+02:00", select=["v", "s"], sort="asc"
        )
    )
    assert got == [{"_time": "a"}, {"_time": "b"}]
    first = query(requests_mock.request_history[0])
    assert first == {
        "from": "2024-05-01T00:00:00.000Z",
        "to": "2024-05-02T00:00:00.000Z",
        "limit": "2000",
        "select": "v,s",
        "sort": "asc",
    }


def test_a_naive_bound_is_refused_before_any_call(client, requests_mock):
    with pytest.raises(MdspConfigError) as err:
        list(client.timeseries.iter_timeseries_pages(ENTITY, "Vibration", from_=datetime(2024, 5, 1), to=T0))
    assert err.value.field == "from_"
    assert requests_mock.call_count == 0


def test_latest_values(client, requests_mock):
    api = requests_mock.get(URL, json=[{"_time": "z", "v": 1}])
    assert client.timeseries.get_latest_values(ENTITY, "Vibration", select="v") == [{"_time": "z", "v": 1}]
    assert query(api.last_request) == {"latestValue": "true", "select": "v"}


def test_put_splits_records_into_chunks_under_the_limit_in_order(client, requests_mock):
    api = requests_mock.put(URL, status_code=204)
    data = records(6000, pad=300)  # about 2 MB as JSON
    written = client.timeseries.put_timeseries(ENTITY, "Vibration", iter(data))
    assert written == 6000
    bodies = [r.body for r in api.request_history]
    assert len(bodies) >= 3
    assert written.requests == len(bodies)
    assert pickle.loads(pickle.dumps(written)).requests == len(bodies)  # noqa: S301 - our own bytes
    assert all(len(b) <= ts.PUT_CHUNK_BYTES < ts.PUT_PAYLOAD_LIMIT for b in bodies)
    sent = [record for b in bodies for record in json.loads(b)]
    assert sent == data
    assert api.last_request.headers["Content-Type"] == "application/json"


def test_put_renders_datetime_times_and_keeps_strings_as_given(client, requests_mock):
    api = requests_mock.put(URL, status_code=204)
    client.timeseries.put_timeseries(
        ENTITY,
        "Vibration",
        [{"_time": T0 + timedelta(microseconds=1500), "v": 1}, {"_time": "2024-05-01T00:00:01.000001Z"}],
    )
    assert [r["_time"] for r in api.last_request.json()] == ["2024-05-01T00:00:00.001Z", "2024-05-01T00:00:01.000001Z"]


def test_put_of_nothing_sends_nothing(client, requests_mock):
    nothing = client.timeseries.put_timeseries(ENTITY, "Vibration", [])
    assert (nothing, nothing.requests) == (0, 0)
    assert requests_mock.call_count == 0


def test_a_record_too_big_for_one_request_is_refused(client, requests_mock):
    with pytest.raises(MdspConfigError, match="more than one request"):
        client.timeseries.put_timeseries(ENTITY, "Vibration", [{"_time": "t", "s": "x" * ts.PUT_CHUNK_BYTES}])
    assert requests_mock.call_count == 0


def test_records_need_a_time(client):
    with pytest.raises(MdspConfigError, match="_time"):
        client.timeseries.put_timeseries(ENTITY, "Vibration", [{"v": 1}])


def test_delete_sends_both_bounds(client, requests_mock):
    api = requests_mock.delete(URL, status_code=204)
    client.timeseries.delete_timeseries(ENTITY, "Vibration", from_=T0, to=T0 + timedelta(hours=1))
    assert query(api.last_request) == {"from": "2024-05-01T00:00:00.000Z", "to": "2024-05-01T01:00:00.000Z"}


# --- multi-entity PUT -------------------------------------------------------------------------


def multi_bodies(api):
    return [r.json()["timeseries"] for r in api.request_history]


def pairs_sent(bodies):
    """Records per (entityId, propertySetName), in the order they were sent."""
    out: dict = {}
    for body in bodies:
        for pair in body:
            out.setdefault((pair["entityId"], pair["propertySetName"]), []).extend(pair["data"])
    return out


def test_multi_put_respects_the_pair_record_and_size_limits(client, requests_mock):
    api = requests_mock.put(BASE, status_code=202, text="")
    items = [{"entityId": f"e{i}", "propertySetName": "ps", "data": records(3)} for i in range(12)]
    items.append({"entityId": "big", "propertySetName": "ps", "data": records(250)})
    items.append({"entityId": "wide", "propertySetName": "ps", "data": records(60, pad=1000)})
    result = client.timeseries.put_timeseries_multi(items)
    bodies = multi_bodies(api)
    for request, body in zip(api.request_history, bodies, strict=True):
        assert len(body) <= 5
        assert sum(len(p["data"]) for p in body) <= 100
        assert len(request.body) <= ts.MULTI_CHUNK_BYTES < ts.MULTI_PAYLOAD_LIMIT
    assert pairs_sent(bodies) == {(i["entityId"], i["propertySetName"]): i["data"] for i in items}
    assert result == {"requests": len(bodies), "records": 12 * 3 + 250 + 60, "errors": []}


def test_multi_put_reports_per_pair_errors_and_counts_only_accepted_records(client, requests_mock):
    errors = {"errors": [{"entityId": "e1", "propertySetName": "ps", "status": 404, "message": "No such asset"}]}
    requests_mock.put(BASE, status_code=202, json=errors)
    items = [{"entityId": e, "propertySetName": "ps", "data": records(2)} for e in ("e0", "e1")]
    result = client.timeseries.put_timeseries_multi(items)
    assert result == {
        "requests": 1,
        "records": 2,
        "errors": [{"entityId": "e1", "propertySetName": "ps", "status": 404, "message": "No such asset"}],
    }


def test_throttled_pairs_are_resent_alone_after_a_wait(client, requests_mock, sleeps):
    throttled = [{"entityId": "e1", "propertySetName": "ps", "statusCode": 429, "message": "Too many requests"}]
    api = requests_mock.put(BASE, [{"status_code": 202, "json": throttled}, {"status_code": 202, "text": ""}])
    items = [{"entityId": e, "propertySetName": "ps", "data": records(2)} for e in ("e0", "e1")]
    result = client.timeseries.put_timeseries_multi(items)
    assert result == {"requests": 2, "records": 4, "errors": []}
    assert [p["entityId"] for p in multi_bodies(api)[1]] == ["e1"]
    assert len(sleeps) == 1


def test_pairs_throttled_every_time_are_reported_after_bounded_resends(client, requests_mock, sleeps):
    throttled = [{"entityId": "e1", "propertySetName": "ps", "status": 429, "message": "slow down"}]
    api = requests_mock.put(BASE, status_code=202, json=throttled, headers={"Retry-After": "2"})
    result = client.timeseries.put_timeseries_multi([{"entityId": "e1", "propertySetName": "ps", "data": records(1)}])
    assert api.call_count == 1 + ts.MULTI_RATE_LIMIT_RETRIES
    assert sleeps == [2.0] * ts.MULTI_RATE_LIMIT_RETRIES
    assert result["records"] == 0
    assert result["errors"] == [{"entityId": "e1", "propertySetName": "ps", "status": 429, "message": "slow down"}]


def test_an_error_naming_no_pair_is_reported_and_nothing_counted(client, requests_mock):
    requests_mock.put(BASE, status_code=202, json=[{"message": "partially failed"}])
    result = client.timeseries.put_timeseries_multi([{"entityId": "e1", "propertySetName": "ps", "data": records(1)}])
    assert result["records"] == 0
    assert result["errors"][0]["message"] == "partially failed"


def test_multi_items_need_both_ids(client):
    with pytest.raises(MdspConfigError) as err:
        client.timeseries.put_timeseries_multi([{"entityId": "e1", "data": records(1)}])
    assert err.value.field == "items"
