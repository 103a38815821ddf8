"""Atomic outputs without leftovers on file systems; the connection of an ``s3://`` path without one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators import storage
from airflow_provider_mdsp.operators.output import deliver_records
from airflow_provider_mdsp.operators.storage import atomic_output, remove_stale_temps, storage_path
from tests.helpers.mock_gateway import TrackedPages, records

ROOT = Path(__file__).resolve().parents[2]

# A writer that starts an output, reports it is writing, and waits to be killed mid-write.
_KILLED_WRITER = """
import sys, time
from airflow_provider_mdsp.operators.storage import atomic_output, storage_path
with atomic_output(storage_path(sys.argv[1])) as handle:
    handle.write(b'{"partial": ')
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def start_writer(target: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # Airflow may log a line or two first
        if line.strip() == "writing":
            return proc
    raise AssertionError(f"the writer exited {proc.wait()} before writing")


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_killed_writers_temp_file_is_removed_by_the_next_writer_of_the_same_output(tmp_path):
    target = tmp_path / "pump.jsonl"
    target.write_text('{"previous": true}\n')
    writer = start_writer(target)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    (tmp_path / "other.jsonl").write_text("{}\n")
    assert target.read_text() == '{"previous": true}\n', "a killed writer never leaves a file that looks complete"
    assert [n for n in names(tmp_path) if n.startswith(".pump.jsonl.tmp-")], "the killed writer left a temp file"

    result = deliver_records(iter([records(3)]), output_path=str(target), max_xcom_records=0)

    assert names(tmp_path) == ["other.jsonl", "pump.jsonl"]
    assert result["records"] == 3
    assert result["bytes"] == target.stat().st_size
    assert [json.loads(line)["_time"] for line in target.read_text().splitlines()] == [r["_time"] for r in records(3)]


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    target = tmp_path / "pump.jsonl"
    writer = start_writer(target)
    try:
        temps = [n for n in names(tmp_path) if n.startswith(".pump.jsonl.tmp-")]
        assert remove_stale_temps(str(tmp_path), "pump.jsonl") == []
        assert [n for n in names(tmp_path) if n.startswith(".pump.jsonl.tmp-")] == temps
    finally:
        writer.kill()
        writer.wait()
    assert remove_stale_temps(str(tmp_path), "pump.jsonl") == temps
    assert names(tmp_path) == []


def test_temps_of_other_outputs_in_the_directory_are_not_touched(tmp_path):
    other = start_writer(tmp_path / "other.jsonl")
    other.kill()
    other.wait()
    left = names(tmp_path)
    deliver_records(iter([records(1)]), output_path=str(tmp_path / "pump.jsonl"), max_xcom_records=0)
    assert names(tmp_path) == sorted([*left, "pump.jsonl"])


def test_a_failed_clean_up_does_not_hide_the_error_that_caused_it(monkeypatch):
    """The store's delete fails too (a write-only prefix, a network outage): the write's error is raised."""
    from airflow.sdk.io import fs as airflow_fs
    from airflow.sdk.io import store
    from fsspec.implementations.memory import MemoryFileSystem

    class NoDelete(MemoryFileSystem):
        def rm(self, *args, **kwargs):
            raise PermissionError("AccessDenied on delete")

    warnings: list[str] = []
    monkeypatch.setattr(storage.log, "warning", lambda message, *args: warnings.append(message % args))
    memory = NoDelete()
    monkeypatch.setattr(store, "_STORE_CACHE", {})  # another test may have attached another memory store
    monkeypatch.setitem(airflow_fs._register_filesystems(), "memory", lambda conn_id, options=None: memory)
    pages = TrackedPages([records(2), records(2)], fail_at=2)
    with pytest.raises(ConnectionError):
        deliver_records(pages, output_path="memory://bucket/out/pump.jsonl", max_xcom_records=0)
    assert len(warnings) == 1
    assert "Could not clean up the unfinished output memory://" in warnings[0]
    assert "AccessDenied on delete" in warnings[0]


def test_the_local_replace_happens_only_once_the_block_ends_without_error(tmp_path):
    target = tmp_path / "report.bin"
    output = atomic_output(storage_path(str(target)))
    with output as handle:
        handle.write(b"abc")
        assert not target.exists()
    assert target.read_bytes() == b"abc"
    assert output.size == 3
    assert names(tmp_path) == ["report.bin"]


def test_an_s3_path_without_connection_uses_aws_default_when_it_exists(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    assert str(storage_path("s3://bucket/mdsp/pump.jsonl")) == "s3://aws_default@bucket/mdsp/pump.jsonl"


def test_an_s3_path_naming_its_connection_keeps_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    assert str(storage_path("s3://lake@bucket/pump.jsonl")) == "s3://lake@bucket/pump.jsonl"


def test_an_s3_path_without_connection_and_no_default_fails_saying_how_to_name_one(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    with pytest.raises(MdspConfigError) as err:
        storage_path("s3://bucket/mdsp/pump.jsonl")
    assert err.value.field == "output_path"
    assert "'s3://<conn_id>@bucket/mdsp/pump.jsonl'" in str(err.value)
    assert "'aws_default' does not exist" in str(err.value)
