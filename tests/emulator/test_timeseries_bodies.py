"""IoT Time Series v3 writes in the emulator refuse malformed bodies with a 4xx, never a 500 (§4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import iso, minute_now

TS = "/api/iottimeseries/v3/timeseries"
HOUR = 3_600_000
JSON = {"Content-Type": "application/json"}
# Neither a list of records nor a record list's elements: every one must be refused as a whole.
NOT_RECORDS: list[Any] = [5, True, 1.5, "x", None, {"a": 1}, [5], [None], [[1]], [{"_time": 5}], [{"_time": "x"}]]
NOT_DATA: list[Any] = [5, True, 1.5, "x", None, {"a": 1}, [5], [{"_time": 5}]]


def _records_with(value: Any) -> list[dict[str, Any]]:
    return [{"_time": iso(minute_now() - HOUR), "FlowRate": value}]


@pytest.mark.integration
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("body", [*NOT_RECORDS, _records_with({"a": 1}), _records_with([1])], ids=repr)
def test_single_entity_writes_refuse_a_malformed_body_with_400(emu, api, ids, method, body):
    url = f"{emu.url}{TS}/{ids['Pump-B1-1']}/PumpData"
    r = api.request(method, url, data=json.dumps(body), headers=JSON, timeout=10)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"id", "message"}


@pytest.mark.integration
@pytest.mark.parametrize("body", [5, True, None, "x", [], {"timeseries": 5}, {"timeseries": {"a": 1}}], ids=repr)
def test_multi_entity_put_refuses_a_malformed_body_with_400(emu, api, body):
    r = api.put(f"{emu.url}{TS}", data=json.dumps(body), headers=JSON, timeout=10)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"id", "message"}


@pytest.mark.integration
@pytest.mark.parametrize("data", NOT_DATA, ids=repr)
def test_multi_entity_put_fails_only_the_pair_whose_data_is_not_records(emu, api, ids, data):
    good = {"entityId": ids["Pump-B1-1"], "propertySetName": "PumpData", "data": _records_with(2.5)}
    bad = {"entityId": ids["Pump-B1-2"], "propertySetName": "PumpData", "data": data}
    r = api.put(f"{emu.url}{TS}", data=json.dumps({"timeseries": [good, bad, 7]}), headers=JSON, timeout=10)
    assert r.status_code == 202, r.text
    errors = r.json()["errors"]
    assert [(e["entityId"], e["status"]) for e in errors] == [(ids["Pump-B1-2"], 400), (None, 400)]
