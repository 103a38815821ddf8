"""Writes whose answer was lost after the service acted converge: one file, one asset, one import job.

The emulator runs behind :class:`DropAfterProcessing`, which lets the service act and then cuts the
connection before the answer arrives. Each test then retries the way the client or a retried Airflow
task would, and checks what a user would find in Insights Hub afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspConnectionError
from tests.resilience.conftest import DropAfterProcessing, Served, client_for

pytestmark = pytest.mark.integration

FILES = "/api/iotfile/v3/files"
MIB = 1024 * 1024
HOURS_AGO = (datetime.now(timezone.utc) - timedelta(hours=4)).isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def lossy() -> Iterator[Callable[..., tuple[Any, DropAfterProcessing]]]:
    """Start the emulator behind a wrapper that loses the answer of the first matching successful call."""
    from airflow_provider_mdsp.emulator import EmulatorHandle, create_app
    from airflow_provider_mdsp.emulator.config import demo_config

    with ExitStack() as stack:

        def start(**match: Any) -> tuple[Any, DropAfterProcessing]:
            app = create_app(demo_config().with_overrides(job_step_s=0.2))
            cutter = DropAfterProcessing(app, 1.0, limit=1, **match)
            server = stack.enter_context(Served(cutter))
            return EmulatorHandle(server.url), cutter

        yield start


def stored_files(client: Any, entity: str, name: str) -> list[dict[str, Any]]:
    return list(client.files.iter_files(entity, filter=f"name eq {name}"))


def test_a_single_put_whose_answer_was_lost_leaves_one_file_and_succeeds(lossy):
    emu, cutter = lossy(method="PUT", path=f"{FILES}/*")
    entity = emu.demo_assets()["Pump-A1-1"]
    data = b"one reply lost\n" * 1000
    client = client_for(emu.url)
    stored = client.files.put_file(entity, "lost/single.bin", data)
    assert cutter.dropped == 1, "the first PUT stored the file and its answer was lost"
    assert (stored["size"], stored["etag"], stored["parts"]) == (len(data), "0", 1)
    [meta] = stored_files(client, entity, "single.bin")
    assert meta["etag"] == 0, "stored once: a second write would have raised the etag"
    assert client.files.get_file(entity, "lost/single.bin") == data


def test_a_retried_upload_task_finds_its_file_from_the_earlier_try(lossy, mdsp_connection, tmp_path):
    from airflow_provider_mdsp.auth import clear_token_providers
    from airflow_provider_mdsp.operators.files import MdspUploadFileOperator

    emu, cutter = lossy(method="PUT", path=f"{FILES}/*")
    entity = emu.demo_assets()["Pump-A1-1"]
    source = tmp_path / "report.csv"
    source.write_bytes(b"time,value\n" * 500)
    conn_id = mdsp_connection(
        "mdsp_lossy",
        host=emu.url,
        login="demo-techuser",
        password="demo-secret",
        extra={"tenant": "demo", "auth_url": emu.token_url, "max_retries": 0},
    )
    clear_token_providers()
    upload = MdspUploadFileOperator(
        task_id="upload", mdsp_conn_id=conn_id, entity_id=entity, file_path="daily/report.csv", local_path=str(source)
    )
    with pytest.raises(MdspConnectionError):
        upload.execute(context={})  # try 1: stored, answer lost, no resend allowed
    result = upload.execute(context={})  # try 2 (an Airflow retry): finds the same bytes stored
    assert cutter.dropped == 1
    assert (result["size"], result["etag"]) == (source.stat().st_size, "0")
    assert len(stored_files(client_for(emu.url), entity, "report.csv")) == 1


def test_a_retried_upload_of_other_bytes_still_says_the_file_exists(lossy):
    from airflow_provider_mdsp.exceptions import MdspConflictError

    emu, _ = lossy(method="PUT", path=f"{FILES}/*")
    entity = emu.demo_assets()["Pump-A1-1"]
    client = client_for(emu.url, max_retries=0)
    with pytest.raises(MdspConnectionError):
        client.files.put_file(entity, "lost/other.bin", b"first version")
    with pytest.raises(MdspConflictError):
        client.files.put_file(entity, "lost/other.bin", b"other version")  # same size would not match either
    assert client.files.get_file(entity, "lost/other.bin") == b"first version"


def test_a_multipart_upload_whose_completion_answer_was_lost_leaves_one_file(lossy):
    emu, cutter = lossy(method="PUT", path=f"{FILES}/*", query="upload=complete")
    entity = emu.demo_assets()["Pump-A1-1"]
    data = bytes(range(256)) * (6 * MIB // 256)
    client = client_for(emu.url)
    stored = client.files.put_file(entity, "lost/big.bin", data, part_size=5 * MIB)
    assert cutter.dropped == 1, "the completion happened and its answer was lost"
    assert (stored["size"], stored["parts"], stored["etag"]) == (len(data), 2, "0")
    # The retried task: the upload starts again, meets the finished file, and reports it.
    again = client.files.put_file(entity, "lost/big.bin", data, part_size=5 * MIB)
    assert (again["size"], again["etag"]) == (len(data), "0")
    [meta] = stored_files(client, entity, "big.bin")
    assert (meta["size"], meta["etag"]) == (len(data), 0)
    assert (
        client.files.get_file(entity, "lost/big.bin", byte_range=(5 * MIB - 2, 5 * MIB + 1))
        == data[5 * MIB - 2 : 5 * MIB + 2]
    )


def test_asset_creation_whose_answer_was_lost_returns_the_one_asset(lossy):
    emu, cutter = lossy(method="POST", path="/api/assetmanagement/v3/assets")
    ids = emu.demo_assets()
    client = client_for(emu.url)
    body = {"name": "LostReplyPump", "typeId": "demo.Pump", "parentId": ids["Line-B2"]}
    created = client.assets.create_asset(body)
    assert cutter.dropped == 1
    assert created["name"] == "LostReplyPump"
    again = client.assets.create_asset(body)  # a retried task
    assert again["assetId"] == created["assetId"]
    named = list(client.assets.iter_assets(filter={"name": "LostReplyPump"}))
    assert [a["assetId"] for a in named] == [created["assetId"]]


def import_files(client: Any, entity: str) -> list[dict[str, Any]]:
    """Store one record file of second-resolution motor data, 3 hours old, and describe it for a job."""
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)
    stamps = [(start + timedelta(seconds=k, milliseconds=250)) for k in range(20)]
    records = [
        {"_time": t.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "Speed": 4321.5 + k, "Current": 7.25}
        for k, t in enumerate(stamps)
    ]
    client.files.put_file(entity, "imports/lost.json", json.dumps(records).encode())
    span = {"from": records[0]["_time"], "to": records[-1]["_time"]}
    return [{"filePath": "imports/lost.json", **span}]


class Store(dict):
    """The task state store of Airflow 3.3 (get/set/delete), kept from one try to the next."""

    def set(self, key: str, value: str) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


def test_a_bulk_import_whose_answer_was_lost_is_submitted_once_across_task_retries(lossy, mdsp_connection, monkeypatch):
    from airflow_provider_mdsp.auth import clear_token_providers
    from airflow_provider_mdsp.client.bulk import import_fingerprint
    from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator

    emu, cutter = lossy(method="POST", path="/api/iottsbulk/v3/importJobs")
    entity = emu.demo_assets()["Motor-B1"]
    client = client_for(emu.url)
    files = import_files(client, entity)
    conn_id = mdsp_connection(
        "mdsp_lossy",
        host=emu.url,
        login="demo-techuser",
        password="demo-secret",
        extra={"tenant": "demo", "auth_url": emu.token_url},
    )
    clear_token_providers()
    store = Store()
    op = MdspBulkImportOperator(
        task_id="import", mdsp_conn_id=conn_id, entity_id=entity, aspect="MotorData", files=files, poll_interval=0.1
    )
    first = op.execute(context={"task_state_store": store})
    assert cutter.dropped == 1, "the job was created and the answer lost"
    assert (first["status"], first["job_id"]) == ("SUCCESS", None)
    assert not store, "nothing left to remember: the import is done"
    records = list(
        client.timeseries.iter_timeseries(entity, "MotorData", from_="2000-01-01T00:00:00Z", to=files[0]["to"])
    )
    assert [r["Speed"] for r in records if r["Speed"] >= 4321.5] == [4321.5 + k for k in range(20)]
    assert job_posts(emu) == 1, "one job submitted"
    # A later retry of the same task (the memory was kept had it failed) submits nothing either.
    store.set("mdsp_bulk_import_pending", import_fingerprint(entity, "MotorData", files))
    assert op.execute(context={"task_state_store": store})["status"] == "SUCCESS"
    assert job_posts(emu) == 1


def job_posts(emu: Any) -> int:
    """Return how many import jobs were submitted to the emulator."""
    calls = emu.stats()["calls"]
    return sum(n for name, n in calls.items() if name.startswith("POST") and "importJobs" in name)
