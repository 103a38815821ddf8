"""The output policy: bounded XCom results, streamed atomic files in every format, nothing half-written."""

from __future__ import annotations

import csv
import json
import sys

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.output import DEFAULT_MAX_XCOM_RECORDS, deliver_records
from tests.helpers.mock_gateway import TrackedPages, records


def pages_of(n_pages: int, per_page: int = 3) -> list[list[dict]]:
    all_records = records(n_pages * per_page)
    return [all_records[i * per_page : (i + 1) * per_page] for i in range(n_pages)]


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


# --- XCom --------------------------------------------------------------------------------------


def test_small_results_go_to_xcom_with_their_time_range():
    result = deliver_records(iter(pages_of(2)), output_path=None, max_xcom_records=6)
    assert result["records"] == 6
    assert result["data"] == [r for page in pages_of(2) for r in page]
    assert (result["first_time"], result["last_time"]) == ("2026-05-01T00:01:00.000Z", "2026-05-01T00:06:00.000Z")
    json.dumps(result)  # plain JSON: XCom only deserialises airflow.* classes


def test_exceeding_the_bound_without_output_path_fails_and_says_what_to_set():
    pages = TrackedPages(pages_of(10))
    with pytest.raises(MdspConfigError) as err:
        deliver_records(pages, output_path=None, max_xcom_records=4)
    assert err.value.field == "output_path"
    message = str(err.value)
    assert "at least 6 records" in message
    assert "max_xcom_records=4" in message
    assert "set output_path" in message
    # Reading stopped at the page that crossed the bound instead of spending quota on the rest.
    assert pages.taken == 2


def test_the_default_bound_is_a_thousand_records():
    assert DEFAULT_MAX_XCOM_RECORDS == 1000
    with pytest.raises(MdspConfigError):
        deliver_records(iter([records(1001)]), output_path=None, max_xcom_records=DEFAULT_MAX_XCOM_RECORDS)


def test_no_records_give_an_empty_result_without_times():
    assert deliver_records(iter([]), output_path=None, max_xcom_records=10) == {
        "records": 0,
        "first_time": None,
        "last_time": None,
        "data": [],
    }


def test_time_range_is_earliest_and_latest_whatever_the_order_and_precision():
    page = [{"_time": "2026-05-01T00:00:00Z"}, {"_time": "2026-05-01T00:00:00.500Z"}, {"_time": "2026-04-30T23:59:59Z"}]
    result = deliver_records(iter([page]), output_path=None, max_xcom_records=10)
    assert (result["first_time"], result["last_time"]) == ("2026-04-30T23:59:59.000Z", "2026-05-01T00:00:00.500Z")


# --- files -------------------------------------------------------------------------------------


def test_jsonl_is_written_atomically_and_summarised(tmp_path):
    target = tmp_path / "out" / "pump.jsonl"
    result = deliver_records(iter(pages_of(3)), output_path=f"file://{target}", max_xcom_records=0)
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [r for page in pages_of(3) for r in page]
    assert result == {
        "path": f"file://{target}",
        "records": 9,
        "format": "jsonl",
        "bytes": target.stat().st_size,
        "first_time": "2026-05-01T00:01:00.000Z",
        "last_time": "2026-05-01T00:09:00.000Z",
    }
    assert leftovers(target.parent) == ["pump.jsonl"]


def test_csv_header_is_the_union_of_keys_even_when_a_column_first_appears_late(tmp_path):
    target = tmp_path / "pump.csv"
    pages = [[{"_time": "t1", "a": 1}], [{"_time": "t2", "a": 2, "b": True, "nested": {"x": 1}}, {"_time": "t3"}]]
    result = deliver_records(iter(pages), output_path=str(target), max_xcom_records=0, output_format="csv")
    rows = list(csv.DictReader(target.open()))
    assert rows == [
        {"_time": "t1", "a": "1", "b": "", "nested": ""},
        {"_time": "t2", "a": "2", "b": "true", "nested": '{"x":1}'},
        {"_time": "t3", "a": "", "b": "", "nested": ""},
    ]
    assert result["records"] == 3
    assert result["format"] == "csv"


def test_parquet_keeps_types_and_gathers_pages_into_row_groups(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "pump.parquet"
    pages = [[{"_time": "t1", "v": 1.5, "ok": True}], [{"_time": "t2", "v": 2, "ok": None}]]
    result = deliver_records(iter(pages), output_path=str(target), max_xcom_records=0, output_format="parquet")
    file = pq.ParquetFile(target)
    assert file.num_row_groups == 1, "two small pages make one row group"
    assert file.read().to_pylist() == [{"_time": "t1", "v": 1.5, "ok": True}, {"_time": "t2", "v": 2.0, "ok": None}]
    assert result["records"] == 2


def test_parquet_refuses_a_key_the_first_page_did_not_have_instead_of_dropping_it(tmp_path):
    pytest.importorskip("pyarrow")
    target = tmp_path / "pump.parquet"
    pages = [[{"_time": "t1", "v": 1}], [{"_time": "t2", "v": 2, "late": "x"}]]
    with pytest.raises(MdspConfigError, match="late") as err:
        deliver_records(iter(pages), output_path=str(target), max_xcom_records=0, output_format="parquet")
    assert err.value.field == "output_format"
    assert leftovers(tmp_path) == []


def test_parquet_without_pyarrow_fails_before_reading_anything(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    pages = TrackedPages(pages_of(2))
    with pytest.raises(MdspConfigError, match="pyarrow") as err:
        deliver_records(pages, output_path=str(tmp_path / "x.parquet"), max_xcom_records=0, output_format="parquet")
    assert err.value.field == "output_format"
    assert pages.taken == 0


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(MdspConfigError, match="jsonl, csv, parquet") as err:
        deliver_records(iter([]), output_path=str(tmp_path / "x.xml"), max_xcom_records=0, output_format="xml")
    assert err.value.field == "output_format"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_failure_mid_stream_leaves_nothing_at_output_path(tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    target = tmp_path / f"pump.{fmt}"
    pages = TrackedPages(pages_of(5), fail_at=3)
    with pytest.raises(ConnectionError):
        deliver_records(pages, output_path=str(target), max_xcom_records=0, output_format=fmt)
    assert leftovers(tmp_path) == []


def test_a_failed_rewrite_keeps_the_previous_complete_file(tmp_path):
    target = tmp_path / "pump.jsonl"
    target.write_text('{"previous": true}\n')
    with pytest.raises(ConnectionError):
        deliver_records(TrackedPages(pages_of(3), fail_at=2), output_path=str(target), max_xcom_records=0)
    assert target.read_text() == '{"previous": true}\n'
    assert leftovers(tmp_path) == ["pump.jsonl"]


def test_pages_are_written_as_they_arrive_not_collected_first(tmp_path):
    """When page n is requested, the pages before it are already on disk (minus a small write buffer)."""
    target = tmp_path / "pump.jsonl"
    page_bytes = 2 * 50_000
    pages = TrackedPages([records(2, pad="x" * 50_000) for _ in range(4)])
    on_disk: list[int] = []

    def look(number: int) -> None:
        on_disk.append(sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith(".pump.jsonl.tmp-")))

    pages.on_take = look
    deliver_records(pages, output_path=str(target), max_xcom_records=0)
    assert on_disk[0] == 0
    for number, size in enumerate(on_disk[1:], start=1):
        assert number * page_bytes - 64 * 1024 <= size <= number * page_bytes + 1000


def test_object_storage_paths_are_moved_into_place(monkeypatch):
    """A non-local store (fsspec memory here, s3/gcs in production) gets the same atomic write."""
    from airflow.sdk.io import fs as airflow_fs
    from fsspec.implementations.memory import MemoryFileSystem

    memory = MemoryFileSystem()
    monkeypatch.setitem(airflow_fs._register_filesystems(), "memory", lambda conn_id, options=None: memory)
    result = deliver_records(iter(pages_of(2)), output_path="memory://bucket/mdsp/pump.jsonl", max_xcom_records=0)
    # Airflow 3.1's ObjectStoragePath renders bucket URIs with three slashes; both name the same object.
    assert result["path"].replace(":///", "://") == "memory://bucket/mdsp/pump.jsonl"
    assert memory.ls("/bucket/mdsp", detail=False) == ["/bucket/mdsp/pump.jsonl"]
    assert len(memory.cat("/bucket/mdsp/pump.jsonl").splitlines()) == 6


def test_time_range_is_right_for_uniform_and_mixed_time_strings():
    from airflow_provider_mdsp.operators.output import TimeRange

    uniform = TimeRange("_time")
    uniform.update([{"_time": "2026-01-01T00:00:02.000Z"}, {"_time": "2026-01-01T00:00:01.000Z"}])
    assert uniform.summary() == {"first_time": "2026-01-01T00:00:01.000Z", "last_time": "2026-01-01T00:00:02.000Z"}

    mixed = TimeRange("_time")
    # 00:30+01:00 is 23:30Z the day before: string order would get this wrong.
    mixed.update([{"_time": "2026-01-01T00:00:00Z"}, {"_time": "2026-01-01T00:30:00+01:00"}, {"x": 1}])
    assert mixed.summary()["first_time"].startswith("2025-12-31T23:30:00")
    assert mixed.summary()["last_time"].startswith("2026-01-01T00:00:00")
