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
    assert puts == 5  # start, three parts, complete

    target = tmp_path / "back" / "vibration.bin"
    downloaded = MdspDownloadFileOperator(
        task_id="down", entity_id=pump, file_path="raw/vibration.bin", output_path=f"file://{target}"
    ).execute({})
    assert downloaded == {"path": f"file://{target}", "bytes": 2 * PART + 12345}
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()

    found = MdspSearchFilesOperator(task_id="s", entity_id=pump, filter="name eq vibration.bin").execute({})
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
