"""IoT TS Bulk v3 in the emulator: import jobs as a state machine, bulk reads."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import JOB_STEP_S, iso, minute_now

pytestmark = pytest.mark.integration

BULK = "/api/iottsbulk/v3"
HOUR = 3_600_000


def _upload(emu, api, entity: str, path: str, records: list[dict]) -> None:
    r = api.put(f"{emu.url}/api/iotfile/v3/files/{entity}/{path}", data=json.dumps(records), timeout=10)
    assert r.status_code in (200, 201)


def _job(entity: str, path: str, start: int, end: int) -> dict:
    files = [{"filePath": path, "from": iso(start), "to": iso(end)}]
    return {"data": [{"entity": entity, "propertySetName": "MotorData", "timeseriesFiles": files}]}


def _wait_final(emu, api, url: str) -> list[str]:
    seen = []
    for _ in range(80):
        status = api.get(url, timeout=10).json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("SUCCESS", "ERROR"):
            return seen
        emu.advance_clock(JOB_STEP_S / 4)
    raise AssertionError(f"job did not finish: {seen}")


def test_import_job_moves_through_its_states_and_data_becomes_readable(emu, api, ids):
    entity = ids["Motor-B1"]
    start = minute_now() - 6 * HOUR
    records = [{"_time": iso(start + k * 1000), "Speed": 1000.0 + k, "Current": 10.0} for k in range(30)]
    _upload(emu, api, entity, "imports/speed.json", records)
    created = api.post(f"{emu.url}{BULK}/importJobs", json=_job(entity, "imports/speed.json", start, start + HOUR))
    assert created.status_code == 201
    job = created.json()
    assert job["status"] == "SUBMITTED"
    assert created.headers["Location"] == f"{emu.url}{BULK}/importJobs/{job['id']}"
    assert _wait_final(emu, api, created.headers["Location"]) == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    got = api.get(
        f"{emu.url}/api/iottimeseries/v3/timeseries/{entity}/MotorData",
        params={"from": iso(start - 1), "to": iso(start + 29_000)},
        timeout=10,
    ).json()
    assert [r["Speed"] for r in got] == [1000.0 + k for k in range(30)]


def test_invalid_records_end_the_job_in_error_with_a_message(emu, api, ids):
    entity = ids["Motor-B1"]
    start = minute_now() - 6 * HOUR
    _upload(emu, api, entity, "imports/bad.json", [{"_time": iso(start), "Torque": 1.0}])
    created = api.post(f"{emu.url}{BULK}/importJobs", json=_job(entity, "imports/bad.json", start, start + HOUR))
    url = created.headers["Location"]
    assert _wait_final(emu, api, url)[-1] == "ERROR"
    assert "Torque" in api.get(url, timeout=10).json()["message"]
    missing = api.post(f"{emu.url}{BULK}/importJobs", json=_job(entity, "imports/none.json", start, start + HOUR))
    assert _wait_final(emu, api, missing.headers["Location"])[-1] == "ERROR"


def test_malformed_job_is_400_in_spring_body(emu, api):
    r = api.post(f"{emu.url}{BULK}/importJobs", json={"data": []}, timeout=10)
    assert r.status_code == 400
    assert {"timestamp", "status", "error", "exception", "message", "path"} == set(r.json())
    assert r.json()["status"] == 400


def read_all(api, url, params):
    """Follow ``nextRecord``; return the records and the ``limit`` each request carried."""
    records, limits = [], []
    body = api.get(url, params=params, timeout=10).json()
    limits.append(params.get("limit"))
    while True:
        records += body["records"]
        if "nextRecord" not in body:
            return records, limits
        assert body["nextRecord"].startswith(api_base(url))
        limits.append(parse_qs(urlsplit(body["nextRecord"]).query).get("limit", [None])[0])
        body = api.get(body["nextRecord"], timeout=10).json()


def api_base(url):
    return url.split("/api/")[0]


def test_bulk_read_without_limit_pages_with_next_record(emu, api, ids):
    end = minute_now() - HOUR
    url = f"{emu.url}{BULK}/timeseries/{ids['bench-motor']}/Vibration"
    records, limits = read_all(api, url, {"from": iso(end - 3 * HOUR), "to": iso(end)})
    assert len(records) == 3 * 3600  # one record a second
    assert len(limits) == 3  # pages of 5000
    assert len({r["_time"] for r in records}) == len(records)


def test_bulk_read_limit_caps_the_whole_read_not_a_page(emu, api, ids):
    end = minute_now() - HOUR
    url = f"{emu.url}{BULK}/timeseries/{ids['bench-motor']}/Vibration"
    few, limits = read_all(api, url, {"from": iso(end - 10 * 60_000), "to": iso(end), "limit": 250})
    assert (len(few), limits) == (250, [250])  # no nextRecord once the limit is used up
    many, limits = read_all(api, url, {"from": iso(end - 3 * HOUR), "to": iso(end), "limit": 7000})
    assert len(many) == 7000
    assert limits == [7000, "2000"]  # the next URL carries the limit less what was returned (§0)


def test_bulk_read_needs_from_and_to(emu, api, ids):
    r = api.get(f"{emu.url}{BULK}/timeseries/{ids['bench-motor']}/Vibration", timeout=10)
    assert r.status_code == 400
    assert r.json()["status"] == 400


def test_import_job_state_moves_one_step_per_interval_and_dates_each_change():
    from airflow_provider_mdsp.emulator.services.bulk.models import ImportJob

    ok = ImportJob("j", "e", "MotorData", 100.0, {}, None)
    failed = ImportJob("j", "e", "MotorData", 100.0, None, "bad file")
    assert [ok.state(t, 2.0) for t in (99.0, 101.9, 102.0, 104.5)] == [
        ("SUBMITTED", 100.0),
        ("SUBMITTED", 100.0),
        ("IN_PROGRESS", 102.0),
        ("SUCCESS", 104.0),
    ]
    assert failed.state(200.0, 2.0) == ("ERROR", 104.0)
    assert ok.state(100.0, 0) == ("SUCCESS", 100.0)  # no step time: jobs end at once
