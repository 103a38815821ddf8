"""IoT TS Bulk v3 in the emulator: import jobs as a state machine, bulk reads."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import BULK_STEP_S, iso, minute_now

pytestmark = pytest.mark.integration

BULK = "/api/iottsbulk/v3"
HOUR = 3_600_000


def _upload(emu, api, entity: str, path: str, records: list[dict]) -> None:
    r = api.put(f"{emu.url}/api/iotfile/v3/files/{entity}/{path}", data=json.dumps(records), timeout=10)
    assert r.status_code in (200, 201)


def _job(entity: str, path: str, start: int, end: int) -> dict:
    files = [{"filePath": path, "from": iso(start), "to": iso(end)}]
    return {"data": [{"entity": entity, "propertySetName": "MotorData", "timeseriesFiles": files}]}


def _wait_final(api, url: str) -> list[str]:
    seen = []
    deadline = time.monotonic() + 20 * BULK_STEP_S
    while time.monotonic() < deadline:
        status = api.get(url, timeout=10).json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("SUCCESS", "ERROR"):
            return seen
        time.sleep(BULK_STEP_S / 4)
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
    assert _wait_final(api, created.headers["Location"]) == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
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
    assert _wait_final(api, url)[-1] == "ERROR"
    assert "Torque" in api.get(url, timeout=10).json()["message"]
    missing = api.post(f"{emu.url}{BULK}/importJobs", json=_job(entity, "imports/none.json", start, start + HOUR))
    assert _wait_final(api, missing.headers["Location"])[-1] == "ERROR"


def test_malformed_job_is_400_in_spring_body(emu, api):
    r = api.post(f"{emu.url}{BULK}/importJobs", json={"data": []}, timeout=10)
    assert r.status_code == 400
    assert {"timestamp", "status", "error", "exception", "message", "path"} == set(r.json())
    assert r.json()["status"] == 400


def test_bulk_read_pages_with_next_record(emu, api, ids):
    end = minute_now() - HOUR
    params = {"from": iso(end - 10 * 60_000), "to": iso(end), "limit": 250}
    url = f"{emu.url}{BULK}/timeseries/{ids['bench-motor']}/Vibration"
    records, pages = [], 0
    body = api.get(url, params=params, timeout=10).json()
    while True:
        pages += 1
        records += body["records"]
        if "nextRecord" not in body:
            break
        assert body["nextRecord"].startswith(emu.url)
        body = api.get(body["nextRecord"], timeout=10).json()
    assert len(records) == 600
    assert pages == 3
    assert len({r["_time"] for r in records}) == 600


def test_bulk_read_needs_from_and_to(emu, api, ids):
    r = api.get(f"{emu.url}{BULK}/timeseries/{ids['bench-motor']}/Vibration", timeout=10)
    assert r.status_code == 400
    assert r.json()["status"] == 400
