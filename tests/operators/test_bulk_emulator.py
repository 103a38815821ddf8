"""Bulk import against the emulator: records imported, a bad file fails with the job's own message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspJobFailedError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
from airflow_provider_mdsp.sensors.bulk import MdspBulkImportJobSensor
from tests.helpers.gateway import TaskDeferred, live_emulator
from tests.helpers.triggers import first_event

pytestmark = pytest.mark.integration

START = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)


def stamp(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with live_emulator(job_step_s=0.2) as emulator:
        yield emulator


def upload(pump: str, name: str, records: list[dict[str, Any]], tmp_path: Any) -> list[dict[str, str]]:
    source = tmp_path / name
    source.write_text(json.dumps(records))
    MdspUploadFileOperator(
        task_id="up", entity_id=pump, file_path=f"import/{name}", local_path=str(source), overwrite=True
    ).execute({})
    return [{"filePath": f"import/{name}", "from": stamp(0), "to": stamp(10)}]


def test_import_waits_in_the_worker_and_the_records_arrive(emu, tmp_path):
    pump = emu.demo_assets()["Pump-B2-1"]
    records = [{"_time": stamp(m), "FlowRate": 10.0 * m} for m in (1, 2, 3)]
    files = upload(pump, "good.json", records, tmp_path)
    op = MdspBulkImportOperator(task_id="i", entity_id=pump, aspect="PumpData", files=files, poll_interval=0.1)
    result = op.execute({})
    assert (result["status"], result["message"]) == ("SUCCESS", None)
    assert set(result) == {"job_id", "status", "message", "startTime", "lastModified"}
    read = MdspHook().client.timeseries.iter_timeseries(pump, "PumpData", from_=stamp(0), to=stamp(3))
    assert [(r["_time"], r["FlowRate"]) for r in read] == [(r["_time"], r["FlowRate"]) for r in records]


def test_a_job_in_error_fails_with_the_jobs_message_in_every_mode(emu, tmp_path):
    pump = emu.demo_assets()["Pump-B2-2"]
    files = upload(
        pump, "unsorted.json", [{"_time": stamp(2), "FlowRate": 1.0}, {"_time": stamp(1), "FlowRate": 2.0}], tmp_path
    )
    worker = MdspBulkImportOperator(task_id="i", entity_id=pump, aspect="PumpData", files=files, poll_interval=0.1)
    with pytest.raises(MdspJobFailedError, match=r"ended in ERROR: .*sorted by _time"):
        worker.execute({})

    deferring = MdspBulkImportOperator(
        task_id="i", entity_id=pump, aspect="PumpData", files=files, poll_interval=0.1, deferrable=True
    )
    with pytest.raises(TaskDeferred) as deferred:
        deferring.execute({})
    event = first_event(deferred.value.trigger)
    with pytest.raises(MdspJobFailedError, match=r"ended in ERROR: .*sorted by _time"):
        deferring.execute_complete({}, event)

    sensor = MdspBulkImportJobSensor(task_id="s", job_id=deferred.value.trigger.job_id, poke_interval=0.1)
    with pytest.raises(MdspJobFailedError, match="sorted by _time"):
        sensor.execute({})


def test_an_unknown_job_fails_the_sensor_with_the_services_404(emu):
    with pytest.raises(Exception, match="404"):
        MdspBulkImportJobSensor(task_id="s", job_id="no-such-job", poke_interval=0.1).execute({})
