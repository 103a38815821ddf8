"""IoT TS Aggregates v4 in the emulator: interval rules, values matching raw data."""

from __future__ import annotations

import math

import pytest

from airflow_provider_mdsp.emulator.services.aggregates.window import resolve
from airflow_provider_mdsp.emulator.timefmt import parse_iso

from .conftest import iso, minute_now

pytestmark = pytest.mark.integration

AGG = "/api/iottsaggregates/v4/aggregates"
HOUR = 3_600_000
DAY = 24 * HOUR


def _get(api, emu, **params):
    return api.get(f"{emu.url}{AGG}", params=params, timeout=30)


def test_no_interval_parameters_give_daily_aggregates_over_7_days(emu, api, ids):
    r = _get(api, emu, assetId=ids["Pump-A1-1"], aspectName="PumpData")
    assert r.status_code == 200
    items = r.json()["aggregates"]
    assert len(items) in (7, 8)
    spans = {parse_iso(i["endtime"]) - parse_iso(i["starttime"]) for i in items}
    assert spans == {DAY}
    full = items[1]["Temperature"]
    assert full["countgood"] == 1440
    assert set(full) == {
        "countgood", "countuncertain", "countbad", "sum", "average", "mintime", "minvalue",
        "maxtime", "maxvalue", "firsttime", "firstvalue", "lasttime", "lastvalue", "sd",
    }  # fmt: skip
    assert full["maxvalue"] > 80  # the daily overheat window of Pump-A1-1


def test_hourly_aggregate_matches_raw_time_series(emu, api, ids):
    asset = ids["Motor-A2"]
    end = minute_now() // HOUR * HOUR - HOUR
    start = end - 3 * HOUR
    window = {"from": iso(start), "to": iso(end), "intervalUnit": "hour", "intervalValue": 1}
    items = _get(api, emu, assetId=asset, aspectName="MotorData", **window).json()["aggregates"]
    assert [i["starttime"] for i in items] == [iso(start + k * HOUR) for k in range(3)]
    raw = api.get(
        f"{emu.url}/api/iottimeseries/v3/timeseries/{asset}/MotorData",
        params={"from": iso(start - 1), "to": iso(start + HOUR - 1)},
        timeout=10,
    ).json()
    speeds = [r["Speed"] for r in raw]
    first = items[0]["Speed"]
    assert first["countgood"] == len(speeds) == 60
    assert math.isclose(first["sum"], sum(speeds), rel_tol=1e-9)
    assert first["minvalue"] == min(speeds)
    assert first["maxvalue"] == max(speeds)
    assert first["firstvalue"] == speeds[0]
    assert first["lastvalue"] == speeds[-1]
    assert first["mintime"] == raw[speeds.index(min(speeds))]["_time"]


def test_written_values_change_the_aggregate(emu, api, ids):
    asset = ids["Pump-B1-1"]
    hour = minute_now() // HOUR * HOUR - 5 * HOUR
    api.put(
        f"{emu.url}/api/iottimeseries/v3/timeseries/{asset}/PumpData",
        json=[{"_time": iso(hour + 60_000), "FlowRate": 999.0, "Pressure": 4.0, "Temperature": 50.0}],
        timeout=10,
    )
    window = {"from": iso(hour), "to": iso(hour + HOUR), "intervalUnit": "hour", "intervalValue": 1}
    response = _get(api, emu, assetId=asset, aspectName="PumpData", select="FlowRate.maxvalue", **window)
    item = response.json()["aggregates"][0]
    assert item["FlowRate"] == {"maxvalue": 999.0}
    assert "Temperature" not in item


def test_minute_intervals(emu, api, ids):
    end = minute_now() - HOUR
    window = {"from": iso(end - 3_600_000), "to": iso(end), "intervalUnit": "minute", "intervalValue": 10}
    items = _get(api, emu, assetId=ids["bench-motor"], aspectName="Vibration", **window).json()["aggregates"]
    assert len(items) in (6, 7)
    assert all(i["Velocity"]["countgood"] <= 600 for i in items)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"intervalUnit": "minute", "intervalValue": 3}, "even"),
        ({"intervalUnit": "hour", "intervalValue": 25}, "1..24"),
        ({"intervalUnit": "fortnight"}, "intervalUnit"),
        ({"intervalUnit": "hour", "from": "2020-01-01T00:00:00Z", "to": "2020-01-09T00:00:00Z"}, "maximum"),
        ({"from": "2020-01-02T00:00:00Z", "to": "2020-01-01T00:00:00Z", "intervalUnit": "day"}, "after"),
        ({"from": "2026-11-01T00:00:00Z", "intervalUnit": "hour", "intervalValue": 1}, "'to' not given"),
        ({"to": "2026-11-01T00:00:00Z", "intervalUnit": "hour"}, "'from' not given"),
        ({"intervalUnit": "minute", "intervalValue": 2}, "'from' and 'to' not given"),
        ({"intervalUnit": "minute", "intervalValue": 2, "count": 721}, "maximum of 1 days"),
        ({"from": "2026-01-01T00:00:00Z", "intervalUnit": "month", "count": 4}, "maximum"),
        ({"from": "9999-12-15T00:00:00Z", "to": "9999-12-20T00:00:00Z", "intervalUnit": "month"}, "9999"),
        ({"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:30:00Z", "intervalUnit": "hour"}, "9999"),
        ({"from": "9999-12-20T00:00:00Z", "to": "9999-12-31T00:00:00Z", "intervalUnit": "week"}, "9999"),
        ({"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:59:00-01:00", "intervalUnit": "day"}, "9999"),
        ({"to": "0001-01-05T00:00:00Z", "intervalUnit": "month"}, "9999"),
        (
            {"from": "0001-01-10T00:00:00Z", "to": "0001-02-10T00:00:00Z", "intervalUnit": "day", "intervalValue": 90},
            "9999",
        ),
    ],
)
def test_invalid_parameters_are_400_invalid_parameter(emu, api, ids, params, fragment):
    r = _get(api, emu, assetId=ids["Pump-A1-1"], aspectName="PumpData", **params)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["code"] == "mdsp.core.generic.invalidParameter"
    assert fragment in error["message"]


def test_missing_asset_parameter_is_400(emu, api):
    r = _get(api, emu, aspectName="PumpData")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "mdsp.core.generic.missingParameter"


def test_window_rules():
    now = parse_iso("2024-03-10T15:20:00Z")
    w = resolve(now, None, None, None, None, None)
    assert (w.unit, w.value) == ("day", 1)
    assert w.start == parse_iso("2024-03-03T00:00:00Z")
    assert w.end == parse_iso("2024-03-11T00:00:00Z")
    derived = resolve(now, parse_iso("2024-03-01T00:00:00Z"), parse_iso("2024-03-02T00:00:00Z"), None, None, 24)
    assert (derived.unit, derived.value) == ("hour", 1)
    widened = resolve(now, parse_iso("2024-03-01T10:30:00Z"), parse_iso("2024-03-01T12:10:00Z"), "hour", 1, None)
    assert (widened.start, widened.end) == (parse_iso("2024-03-01T10:00:00Z"), parse_iso("2024-03-01T13:00:00Z"))
    months = resolve(now, parse_iso("2024-01-15T00:00:00Z"), parse_iso("2024-03-01T00:00:00Z"), "month", 1, None)
    assert (months.start, months.end) == (parse_iso("2024-01-01T00:00:00Z"), parse_iso("2024-03-01T00:00:00Z"))
    from_only = resolve(now, parse_iso("2024-03-01T00:00:00Z"), None, "day", 1, None)
    assert from_only.end == parse_iso("2024-03-11T00:00:00Z")  # 90 days capped at now
    later = parse_iso("2024-12-01T00:00:00Z")
    from_only = resolve(later, parse_iso("2024-03-01T10:30:00Z"), None, "day", 1, None)
    assert from_only.end == parse_iso("2024-05-30T00:00:00Z")  # 90 days from the date of 'from'
    months = resolve(now, None, None, "month", 1, 3)
    assert (months.start, months.end) == (parse_iso("2024-01-01T00:00:00Z"), parse_iso("2024-04-01T00:00:00Z"))


def test_one_bound_alone_is_completed_and_held_to_the_longest_range(emu, api, ids):
    params = {"assetId": ids["Pump-A1-1"], "aspectName": "PumpData", "intervalUnit": "hour"}
    recent = _get(api, emu, **params, **{"from": iso(minute_now() - 2 * DAY)})
    assert recent.status_code == 200  # 90 days capped at now: 2 days, within the 7 of hours
    assert 47 <= len(recent.json()["aggregates"]) <= 49
    long_ago = _get(api, emu, **params, **{"from": iso(minute_now() - 30 * DAY)})
    assert long_ago.status_code == 400  # 30 days to now: refused as an explicit range is, not cut to 7
    assert "maximum of 7 days" in long_ago.json()["errors"][0]["message"]


@pytest.mark.parametrize("bound", ["from", "to"])
def test_count_with_one_bound_is_enough_and_too_long_a_span_is_refused(emu, api, ids, bound):
    edge = iso(minute_now() - 2 * 3_600_000 - (minute_now() % 3_600_000))
    params = {"assetId": ids["bench-motor"], "aspectName": "Vibration", "intervalUnit": "minute"}
    params.update({"intervalValue": 2, "count": 30, bound: edge})
    answered = api.get(f"{emu.url}{AGG}", params=params, timeout=10)
    assert answered.status_code == 200
    assert len(answered.json()["aggregates"]) == 30
    refused = api.get(f"{emu.url}{AGG}", params={**params, "count": 721}, timeout=10)  # 1442 min > 24 h
    assert refused.status_code == 400
