"""IoT Time Series v3 in the emulator: generated data, Link paging, writes, deletes."""

from __future__ import annotations

import random
import re

import pytest

from airflow_provider_mdsp.emulator.services.timeseries.generators import SeriesGenerator, Signal
from airflow_provider_mdsp.emulator.services.timeseries.store import SeriesData, scan
from airflow_provider_mdsp.emulator.timefmt import parse_iso, parse_iso_sub_ms

from .conftest import iso, minute_now

TS = "/api/iottimeseries/v3/timeseries"
HOUR = 3_600_000
DAY = 24 * HOUR
_LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def _read_all(api, url: str, params: dict) -> tuple[list[dict], int]:
    records, pages = [], 0
    response = api.get(url, params=params, timeout=10)
    while True:
        assert response.status_code == 200
        records += response.json()
        pages += 1
        link = response.headers.get("Link")
        if link is None:
            return records, pages
        match = _LINK.match(link)
        assert match, link
        response = api.get(match.group("url"), timeout=10)


@pytest.mark.integration
def test_no_range_returns_only_the_newest_record(emu, api, ids):
    r = api.get(f"{emu.url}{TS}/{ids['bench-motor']}/Vibration", timeout=10)
    assert r.status_code == 200
    records = r.json()
    assert len(records) == 1
    assert set(records[0]) == {"_time", "Velocity", "Acceleration", "BearingTemperature"}


@pytest.mark.integration
def test_link_header_pages_through_an_hour_of_1s_data(emu, api, ids):
    end = minute_now() - HOUR
    params = {"from": iso(end - HOUR), "to": iso(end), "limit": 500}
    url = f"{emu.url}{TS}/{ids['bench-motor']}/Vibration"
    first = api.get(url, params=params, timeout=10)
    next_url = _LINK.match(first.headers["Link"]).group("url")
    assert next_url.startswith(f"{emu.url}{TS}/")  # absolute, same host
    records, pages = _read_all(api, url, params)
    times = [parse_iso(r["_time"]) for r in records]
    assert len(records) == 3600  # from exclusive, to inclusive
    assert pages == 8
    assert times == sorted(set(times))
    assert times[0] == end - HOUR + 1000
    assert times[-1] == end


@pytest.mark.integration
def test_default_limit_is_2000_and_above_is_400(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['bench-motor']}/Vibration"
    end = minute_now()
    params = {"from": iso(end - 2 * HOUR), "to": iso(end)}
    assert len(api.get(url, params=params, timeout=10).json()) == 2000
    r = api.get(url, params={**params, "limit": 2001}, timeout=10)
    assert r.status_code == 400
    assert set(r.json()) == {"id", "message"}


@pytest.mark.integration
def test_select_quality_codes_and_sort(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['Pump-A2-1']}/PumpData"
    end = minute_now() - HOUR
    params = {"from": iso(end - 10 * 60_000), "to": iso(end)}
    records = api.get(url, params=params, timeout=10).json()
    assert len(records) == 10
    assert all(r["Pressure_qc"] in (192, 64) for r in records)
    selected = api.get(url, params={**params, "select": "FlowRate"}, timeout=10).json()
    assert set(selected[0]) == {"_time", "FlowRate"}
    assert [r["FlowRate"] for r in selected] == [r["FlowRate"] for r in records]
    desc = api.get(url, params={**params, "sort": "desc"}, timeout=10).json()
    assert desc == list(reversed(records))
    bad = api.get(url, params={**params, "select": "Nope"}, timeout=10)
    assert bad.status_code == 400
    assert "does not belong to property set with name PumpData" in bad.json()["message"]


@pytest.mark.integration
def test_values_are_deterministic_and_realistic(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['Motor-B1']}/MotorData"
    end = minute_now() - DAY
    params = {"from": iso(end - 30 * 60_000), "to": iso(end)}
    first = api.get(url, params=params, timeout=10).json()
    assert first == api.get(url, params=params, timeout=10).json()
    assert all(1400 < r["Speed"] < 1560 and 20 < r["Current"] < 45 for r in first)


@pytest.mark.integration
def test_hot_pump_crosses_80_c_only_between_12_00_and_12_30_utc(emu, api, ids):
    day = minute_now() // DAY * DAY - DAY
    params = {"from": iso(day - 60_000), "to": iso(day + DAY - 60_000), "select": "Temperature", "limit": 2000}
    records = api.get(f"{emu.url}{TS}/{ids['Pump-A1-1']}/PumpData", params=params, timeout=10).json()
    hot = [r["_time"][11:16] for r in records if r["Temperature"] > 80]
    assert len(records) == 1440
    assert hot[0] == "12:00"
    assert hot[-1] == "12:29"
    assert len(hot) == 30


@pytest.mark.integration
def test_put_replaces_whole_generated_record(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['Pump-B2-2']}/PumpData"
    t = minute_now() - 2 * HOUR
    put = api.put(url, json=[{"_time": iso(t), "FlowRate": 1.5}], timeout=10)
    assert put.status_code == 204
    got = api.get(url, params={"from": iso(t - 120_000), "to": iso(t + 60_000)}, timeout=10).json()
    assert got[1] == {"_time": iso(t), "FlowRate": 1.5}  # omitted variables are null
    assert "Temperature" in got[0]
    assert "Temperature" in got[2]


@pytest.mark.integration
def test_put_validation_and_size_limit(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['Pump-B2-2']}/PumpData"
    t = iso(minute_now() - HOUR)
    bad = api.put(url, json=[{"_time": t, "Speed": 3}], timeout=10)
    assert bad.status_code == 400
    assert "Speed" in bad.json()["message"]
    assert api.put(url, json=[{"_time": t, "FlowRate": "high"}], timeout=10).status_code == 400
    assert api.put(url, json=[{"FlowRate": 1}], timeout=10).status_code == 400
    big = [{"_time": t, "FlowRate": 1.0, "pad": "x" * 100}] * 12000
    assert api.put(url, json=big, timeout=10).status_code == 413


@pytest.mark.integration
def test_delete_removes_generated_data_and_later_writes_show(emu, api, ids):
    url = f"{emu.url}{TS}/{ids['Motor-A1']}/MotorData"
    end = minute_now() - 3 * HOUR
    rng = {"from": iso(end - 10 * 60_000), "to": iso(end)}
    assert api.delete(url, params={"from": rng["from"]}, timeout=10).status_code == 400
    assert api.delete(url, params=rng, timeout=10).status_code == 204
    assert api.get(url, params=rng, timeout=10).json() == []
    wider = api.get(url, params={"from": iso(end - 11 * 60_000), "to": iso(end + 60_000)}, timeout=10).json()
    assert [r["_time"] for r in wider] == [iso(end - 10 * 60_000), iso(end + 60_000)]
    api.put(url, json=[{"_time": iso(end - 5 * 60_000), "Speed": 1000.0}], timeout=10)
    assert api.get(url, params=rng, timeout=10).json() == [{"_time": iso(end - 5 * 60_000), "Speed": 1000.0}]


@pytest.mark.integration
def test_multi_entity_put(emu, api, ids):
    t = iso(minute_now() - HOUR)
    good = {"entityId": ids["Motor-B2"], "propertySetName": "MotorData", "data": [{"_time": t, "Speed": 1.0}]}
    unknown = {"entityId": "0" * 32, "propertySetName": "MotorData", "data": [{"_time": t, "Speed": 1.0}]}
    r = api.put(f"{emu.url}/api/iottimeseries/v3/timeseries", json={"timeseries": [good, unknown]}, timeout=10)
    assert r.status_code == 202
    errors = r.json()["errors"]
    assert [(e["entityId"], e["status"]) for e in errors] == [("0" * 32, 404)]
    too_many = {"timeseries": [good] * 6}
    assert api.put(f"{emu.url}/api/iottimeseries/v3/timeseries", json=too_many, timeout=10).status_code == 400


@pytest.mark.integration
def test_latest_value(emu, api, ids):
    r = api.get(f"{emu.url}{TS}/{ids['Pump-A1-2']}/PumpData", params={"latestValue": "true"}, timeout=10)
    assert r.status_code == 200
    assert {"FlowRate", "Pressure", "Temperature"} <= set(r.json()[0])


@pytest.mark.integration
def test_unknown_entity_or_aspect_is_404(emu, api, ids):
    assert api.get(f"{emu.url}{TS}/{'0' * 32}/PumpData", timeout=10).status_code == 404
    assert api.get(f"{emu.url}{TS}/{ids['Pump-A1-1']}/MotorData", timeout=10).status_code == 404


def _brute(data: SeriesData, gen: SeriesGenerator, now: int, lo: int, hi: int) -> list[int]:
    first, last = gen.window(now)
    times = {t for t in range(first, last + 1, gen.step_ms) if not any(a < t <= b for a, b in data.deleted)}
    times |= set(data.times)
    return sorted(t for t in times if lo < t <= hi)


def test_scan_matches_a_brute_force_merge():
    rng = random.Random(3)
    gen = SeriesGenerator(10, 2000, (Signal("v", 1.0, 0.5, 0.1, 0.0, 1),))
    now = 10_005
    for _ in range(200):
        data = SeriesData()
        for _ in range(rng.randint(0, 4)):
            lo = rng.randint(7_000, 11_000)
            data.delete(lo, lo + rng.randint(0, 300))
            data.write({rng.randint(7_000, 11_000): {"v": 1.0} for _ in range(rng.randint(0, 5))})
        lo, hi = rng.randint(7_000, 10_500), rng.randint(7_000, 11_000)
        expected = _brute(data, gen, now, lo, hi)
        limit = rng.randint(1, 400)
        assert [h[0] for h in scan(data, gen, now, lo, hi, limit)] == expected[:limit]
        assert [h[0] for h in scan(data, gen, now, lo, hi, limit, descending=True)] == expected[::-1][:limit]


@pytest.mark.integration
def test_descending_pages_move_to_backwards(emu, api, ids):
    end = minute_now() - 2 * HOUR
    params = {"from": iso(end - 1000 * 1000), "to": iso(end), "limit": 300, "sort": "desc"}
    records, pages = _read_all(api, f"{emu.url}{TS}/{ids['bench-motor']}/Vibration", params)
    times = [parse_iso(r["_time"]) for r in records]
    assert pages == 4
    assert times == sorted(set(times), reverse=True)
    assert (times[0], times[-1], len(times)) == (end, end - 999 * 1000, 1000)


@pytest.mark.integration
def test_sub_millisecond_times_are_refused_unless_the_asset_is_a_simulation_twin(emu, api, ids):
    t = minute_now() - 3 * HOUR  # a generated record is there
    second = iso(t)[:-5]  # "YYYY-MM-DDTHH:MM:SS"
    records = [{"_time": f"{second}.000300Z", "FlowRate": 1.0}, {"_time": f"{second}.000700Z", "FlowRate": 2.0}]
    url = f"{emu.url}{TS}/{ids['Pump-A1-2']}/PumpData"  # a performance twin, the default
    window = {"from": iso(t - 1), "to": iso(t + 999)}
    before = api.get(url, params=window, timeout=10).json()
    assert [r["_time"] for r in before] == [iso(t)]
    refused = api.put(url, json=records, timeout=10)
    assert refused.status_code == 400
    assert set(refused.json()) == {"id", "message"}
    assert "1 ms" in refused.json()["message"]
    assert api.patch(url, json=records[:1], timeout=10).status_code == 400
    assert api.get(url, params=window, timeout=10).json() == before  # nothing merged into the record at t
    assert api.put(url, json=[{"_time": f"{second}.123000Z", "FlowRate": 3.0}], timeout=10).status_code == 204
    body = {"name": "Pump-sim", "typeId": "demo.Pump", "parentId": ids["Line-B2"], "twinType": "simulation"}
    simulation = api.post(f"{emu.url}/api/assetmanagement/v3/assets", json=body, timeout=10).json()["assetId"]
    assert api.put(f"{emu.url}{TS}/{simulation}/PumpData", json=records, timeout=10).status_code == 204


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01T00:00:00Z", (1_793_491_200_000, False)),
        ("2026-11-01T00:00:00.123Z", (1_793_491_200_123, False)),
        ("2026-11-01T00:00:00.123000Z", (1_793_491_200_123, False)),
        ("2026-11-01T00:00:00.0003Z", (1_793_491_200_000, True)),
        ("2026-11-01T00:00:00.1230001+00:00", (1_793_491_200_123, True)),
    ],
)
def test_parse_iso_tells_digits_finer_than_a_millisecond(text, expected):
    assert parse_iso_sub_ms(text) == expected
