"""File operators against the emulator: a multipart upload read back byte for byte, and a search."""

from __future__ import annotations

import hashlib
import os

import pytest

from airflow_provider_mdsp.operators.files import (
    MdspDownloadFileOperator,
    MdspSearchFilesOperator,
    MdspUploadFileOperator,
)

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part the service accepts (§7)


def test_multipart_upload_downloads_back_identical_and_is_found(emulator_connection, tmp_path):
    pump = emulator_connection.demo_assets()["Pump-A1-2"]
    source = tmp_path / "vibration.bin"
    source.write_bytes(os.urandom(2 * PART + 12345))
    calls_before = emulator_connection.stats()["calls"]

    uploaded = MdspUploadFileOperator(
        task_id="up",
        entity_id=pump,
        file_path="raw/vibration.bin",
        source_path=f"file://{source}",
        description="multipart test",
        overwrite=True,
        part_size=PART,
    ).execute({})
    assert (uploaded["size"], uploaded["parts"], uploaded["path"]) == (2 * PART + 12345, 3, "raw/vibration.bin")
    calls = emulator_connection.stats()["calls"]
    puts = sum(n - calls_before.get(k, 0) for k, n in calls.items() if k.startswith("PUT /api/iotfile"))
    assert puts == 4  # start, parts 1 and 2, complete carrying the short part 3

    target = tmp_path / "back" / "vibration.bin"
    downloaded = MdspDownloadFileOperator(
        task_id="down", entity_id=pump, file_path="raw/vibration.bin", output_path=f"file://{target}"
    ).execute({})
    assert downloaded == {"path": f"file://{target}", "bytes": 2 * PART + 12345}
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()

    found = MdspSearchFilesOperator(task_id="s", entity_id=pump, filter="name eq 'vibration.bin'").execute({})
    assert [(f["path"], f["name"], f["size"]) for f in found["data"]] == [("raw/", "vibration.bin", 2 * PART + 12345)]


def test_overwrite_replaces_an_existing_file(emulator_connection, tmp_path):
    pump = emulator_connection.demo_assets()["Pump-A1-2"]
    source = tmp_path / "note.txt"
    for text in (b"first", b"second"):
        source.write_bytes(text)
        stored = MdspUploadFileOperator(
            task_id="up", entity_id=pump, file_path="notes/note.txt", local_path=str(source), overwrite=True
        ).execute({})
        assert stored["size"] == len(text)
    target = tmp_path / "note.out"
    MdspDownloadFileOperator(task_id="d", entity_id=pump, file_path="notes/note.txt", output_path=str(target)).execute(
        {}
    )
    assert target.read_bytes() == b"second"


def test_a_12_mib_upload_goes_in_three_parts_the_last_with_upload_complete(emulator_connection, tmp_path, monkeypatch):
    from airflow_provider_mdsp.client.transport import Transport

    sent: list[tuple[dict, int]] = []
    original = Transport.request

    def spy(self, method, path, **kwargs):
        if method == "PUT":
            body = kwargs.get("data")
            sent.append((dict(kwargs.get("params") or {}), len(body) if isinstance(body, bytes) else 0))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Transport, "request", spy)
    pump = emulator_connection.demo_assets()["Pump-A1-1"]
    source = tmp_path / "twelve.bin"
    source.write_bytes(os.urandom(12 * MIB))
    uploaded = MdspUploadFileOperator(
        task_id="up", entity_id=pump, file_path="raw/twelve.bin", local_path=str(source), part_size=PART
    ).execute({})
    assert (uploaded["size"], uploaded["parts"]) == (12 * MIB, 3)
    assert sent == [
        ({"upload": "start"}, 0),
        ({"part": 1}, PART),
        ({"part": 2}, PART),
        ({"upload": "complete"}, 2 * MIB),  # the short final part (§0)
    ]
    target = tmp_path / "back.bin"
    MdspDownloadFileOperator(task_id="d", entity_id=pump, file_path="raw/twelve.bin", output_path=str(target)).execute(
        {}
    )
    assert target.read_bytes() == source.read_bytes()


def test_a_listing_of_1200_files_returns_all_although_the_service_pages_by_200(emulator_connection):
    import requests

    asset = emulator_connection.demo_assets()["Line-A1"]
    token = requests.post(
        emulator_connection.token_url,
        auth=("demo-techuser", "demo-secret"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for k in range(1200):
            url = f"{emulator_connection.url}/api/iotfile/v3/files/{asset}/listing/f{k:04d}.txt"
            assert session.put(url, data=b"x", timeout=10).status_code == 201
    found = MdspSearchFilesOperator(
        task_id="s", entity_id=asset, filter="path eq 'listing/'", max_xcom_records=2000
    ).execute({})
    assert found["records"] == 1200
    assert sorted(f["name"] for f in found["data"]) == [f"f{k:04d}.txt" for k in range(1200)]


def test_a_download_at_an_etag_gets_that_version_or_fails_and_writes_nothing(emulator_connection, tmp_path):
    from airflow_provider_mdsp.exceptions import MdspConflictError

    pump = emulator_connection.demo_assets()["Pump-A1-2"]
    source = tmp_path / "v.txt"
    source.write_bytes(b"first")
    upload = {"task_id": "up", "entity_id": pump, "file_path": "versions/v.txt", "overwrite": True}
    first = MdspUploadFileOperator(**upload, local_path=str(source)).execute({})
    target = tmp_path / "out" / "v.txt"
    download = {"task_id": "d", "entity_id": pump, "file_path": "versions/v.txt", "output_path": str(target)}
    got = MdspDownloadFileOperator(**download, etag=first["etag"]).execute({})
    assert (got["etag"], target.read_bytes()) == (str(first["etag"]), b"first")

    target.unlink()
    source.write_bytes(b"second")
    second = MdspUploadFileOperator(**upload, local_path=str(source)).execute({})
    with pytest.raises(MdspConflictError, match=f"at version {second['etag']}, not the version {first['etag']}"):
        MdspDownloadFileOperator(**download, etag=first["etag"]).execute({})
    assert not target.exists()
