"""The writers: JSON Lines as json.dumps writes it, NaN/Infinity as each format's null, CSV cells, Parquet schema."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import datetime, timezone

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.formats import CsvWriter, JsonLinesWriter
from airflow_provider_mdsp.operators.output import deliver_records

# What the Time Series API sends: ISO times, doubles of every magnitude, integers, text, booleans.
API_RECORDS = [
    {"_time": "2026-05-01T00:00:00.000Z", "Velocity": 2.8123456789, "Count": 7, "Ok": True},
    {"_time": "2026-05-01T00:00:01.000Z", "Velocity": -0.0001, "Count": -3, "Mode": "AUTO", "Ok": False},
    {"_time": "2026-05-01T00:00:02.000Z", "Velocity": 123456.0, "Big": 2**53 + 1, "Note": 'say "hi", ok'},
    {"_time": "2026-05-01T00:00:03.000Z", "Velocity": 0.30000000000000004, "Empty": None, "Nested": {"a": [1]}},
]


def jsonl(pages: list[list[dict]]) -> bytes:
    handle = io.BytesIO()
    writer = JsonLinesWriter(handle)
    for page in pages:
        writer.write_page(page)
    writer.close()
    return handle.getvalue()


def test_json_lines_are_byte_for_byte_what_json_dumps_writes_for_api_records():
    expected = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in API_RECORDS).encode()
    assert jsonl([API_RECORDS[:2], [], API_RECORDS[2:]]) == expected


def test_json_lines_differ_from_json_dumps_only_where_json_allows_a_choice():
    """The documented differences (docs/outputs.md): same values, other spelling; NaN is not JSON."""
    record = {"tiny": 1e-05, "huge": 1e22, "text": "Grüße", "nan": math.nan, "inf": -math.inf}
    line = jsonl([[record]])
    assert line == '{"tiny":0.00001,"huge":1e22,"text":"Grüße","nan":null,"inf":null}\n'.encode()
    assert json.loads(line) == {**record, "nan": None, "inf": None}
    moment = datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert jsonl([[{"_time": moment}]]) == b'{"_time":"2026-05-01T10:00:00.123456Z"}\n'


def test_nan_and_infinity_are_each_formats_null(tmp_path):
    values = [1.5, math.nan, math.inf, -math.inf]
    records = [{"_time": f"2026-05-01T00:00:0{n}Z", "v": v} for n, v in enumerate(values)]
    pages = [records[:2], records[2:]]
    for fmt in ("jsonl", "csv"):
        deliver_records(iter(pages), output_path=str(tmp_path / f"out.{fmt}"), max_xcom_records=0, output_format=fmt)
    text = (tmp_path / "out.jsonl").read_text()
    assert "NaN" not in text
    assert "Infinity" not in text
    assert [json.loads(line)["v"] for line in text.splitlines()] == [1.5, None, None, None]
    assert [row["v"] for row in csv.DictReader((tmp_path / "out.csv").open())] == ["1.5", "", "", ""]
    pq = pytest.importorskip("pyarrow.parquet")
    deliver_records(iter(pages), output_path=str(tmp_path / "out.parquet"), max_xcom_records=0, output_format="parquet")
    assert pq.read_table(tmp_path / "out.parquet").column("v").to_pylist() == [1.5, None, None, None]


def test_csv_cells_match_the_row_by_row_writer():
    """The column-wise writer gives the cells a record-by-record conversion gives."""
    handle = io.BytesIO()
    writer = CsvWriter(handle)
    writer.write_page(API_RECORDS[:2])
    writer.write_page(API_RECORDS[2:])
    writer.close()
    columns = list(dict.fromkeys(key for record in API_RECORDS for key in record))
    expected = io.StringIO(newline="")
    rows = csv.writer(expected)
    rows.writerow(columns)
    for record in API_RECORDS:
        cells = [record.get(key) for key in columns]
        rows.writerow([
            "" if c is None else ("true" if c is True else "false" if c is False else
                                  json.dumps(c, separators=(",", ":")) if isinstance(c, dict) else c)
            for c in cells
        ])  # fmt: skip
    assert handle.getvalue().decode() == expected.getvalue()


def test_parquet_time_is_a_utc_timestamp_and_row_groups_hold_many_pages(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from airflow_provider_mdsp.operators.parquet import ParquetWriter

    target = tmp_path / "v.parquet"
    pages = [[{"_time": f"2026-05-01T00:{m:02d}:{s:02d}.250Z", "v": float(s)} for s in range(60)] for m in range(10)]
    with target.open("wb") as handle:
        writer = ParquetWriter(handle, row_group_rows=250)
        for page in pages:
            writer.write_page(page)
        writer.close()
    file = pq.ParquetFile(target)
    assert file.schema_arrow.field("_time").type == pa.timestamp("us", tz="UTC")
    assert [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)] == [250, 250, 100]
    times = file.read().column("_time").to_pylist()
    assert times[0] == datetime(2026, 5, 1, 0, 0, 0, 250000, tzinfo=timezone.utc)
    assert len(times) == 600


def test_parquet_keeps_a_time_that_is_not_iso_8601_as_text(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "v.parquet"
    deliver_records(iter([[{"_time": "yesterday", "v": 1}]]), output_path=str(target), max_xcom_records=0,
                    output_format="parquet")  # fmt: skip
    assert pq.read_table(target).column("_time").to_pylist() == ["yesterday"]


def cell(value: object) -> object:
    """The writer's documented cells: nothing for None, true/false for booleans."""
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


def csv_module_text(pages: list[list[dict]]) -> str:
    """What the csv module writes for the pages, record by record (the reference for the fast path)."""
    columns = list(dict.fromkeys(key for page in pages for record in page for key in record))
    out = io.StringIO(newline="")
    rows = csv.writer(out)
    rows.writerow(columns)
    for page in pages:
        rows.writerows([[cell(r.get(k)) for k in columns] for r in page])
    return out.getvalue()


def test_csv_pages_fast_or_not_give_the_csv_modules_bytes():
    rng = random.Random(5)
    words = ["AUTO", "a b", "x,y", 'q"q', "line\nbreak", "Grüße", "", "null", "[x]", "1.5"]
    pages = []
    for n in range(30):
        page = []
        for i in range(50):
            record = {
                "_time": f"2026-05-01T00:{n:02d}:{i:02d}.000Z",
                "v": round(rng.uniform(-1e6, 1e6), rng.randint(0, 9)),
            }
            if rng.random() < 0.5 or n % 5 == 0:
                record["n"] = rng.randint(-(2**40), 2**40)
                record["ok"] = rng.random() < 0.5
            if rng.random() < 0.3 and n % 3:
                record["s"] = rng.choice(words if n % 2 else words[:2] + words[5:])
            if n > 10 and rng.random() < 0.2:
                record["late"] = None if rng.random() < 0.5 else rng.random()
            page.append(record)
        pages.append(page)
    handle = io.BytesIO()
    writer = CsvWriter(handle)
    for page in pages:
        writer.write_page(page)
    writer.close()
    assert handle.getvalue().decode() == csv_module_text(pages)


def test_parquet_keeps_dictionaries_for_few_values_and_plain_distinct_values_unchanged(tmp_path):
    """Distinct sensor values outgrow the small dictionary page and go on plain; a state column
    of few values stays dictionary-encoded; every value reads back as written."""
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from airflow_provider_mdsp.operators.parquet import DICTIONARY_PAGE_BYTES, ParquetWriter

    records = [
        {
            "_time": f"2026-05-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
            "v": n * 0.37,
            "state": f"s{n % 3}",
        }
        for n in range(30_000)
    ]
    target = tmp_path / "v.parquet"
    with target.open("wb") as handle:
        writer = ParquetWriter(handle)
        for start in range(0, len(records), 2000):
            writer.write_page(records[start : start + 2000])
        writer.close()
    file = pq.ParquetFile(target)
    columns = {file.metadata.row_group(0).column(i).path_in_schema: i for i in range(3)}
    encodings = {name: file.metadata.row_group(0).column(i).encodings for name, i in columns.items()}
    assert "RLE_DICTIONARY" in encodings["state"]
    v = file.metadata.row_group(0).column(columns["v"])
    dictionary_page = v.data_page_offset - v.dictionary_page_offset
    assert dictionary_page <= DICTIONARY_PAGE_BYTES + 1024, "30,000 distinct doubles stop filling a dictionary"
    rows = file.read().to_pylist()
    assert [r["v"] for r in rows] == [r["v"] for r in records]
    assert [r["state"] for r in rows] == [r["state"] for r in records]


def test_parquet_makes_an_integer_column_double_when_fractions_follow(tmp_path):
    """A DOUBLE variable arrives as 10 on the first page and 10.5 later: the column is a double."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    target = tmp_path / "v.parquet"
    pages = [
        [
            {"_time": "2026-05-01T00:00:00.000Z", "t": 10, "n": 1},
            {"_time": "2026-05-01T00:00:01.000Z", "t": 10, "n": 2},
        ],
        [{"_time": "2026-05-01T00:00:02.000Z", "t": 10.5, "n": 3}],
    ]
    summary = deliver_records(iter(pages), output_path=str(target), max_xcom_records=0, output_format="parquet")
    assert summary["records"] == 3
    table = pq.read_table(target)
    assert table.schema.field("t").type == pa.float64()
    assert table.schema.field("n").type == pa.int64(), "a column of whole numbers only stays integer"
    assert table.column("t").to_pylist() == [10.0, 10.0, 10.5]


def test_parquet_refuses_fractions_for_an_integer_column_once_a_row_group_is_written(tmp_path):
    pytest.importorskip("pyarrow")
    from airflow_provider_mdsp.operators.parquet import ParquetWriter

    with (tmp_path / "v.parquet").open("wb") as handle:
        writer = ParquetWriter(handle, row_group_rows=2)
        writer.write_page(
            [{"_time": "2026-05-01T00:00:00.000Z", "t": 10}, {"_time": "2026-05-01T00:00:01.000Z", "t": 11}]
        )
        with pytest.raises(MdspConfigError, match="does not fit the Parquet schema") as err:
            writer.write_page([{"_time": "2026-05-01T00:00:02.000Z", "t": 10.5}])
        writer.abort()
    assert err.value.field == "output_format"


def test_csv_keeps_a_row_for_records_that_arrive_before_any_column(tmp_path):
    target = tmp_path / "o.csv"
    pages = [[{}, {}], [{"id": "a"}, {}]]
    summary = deliver_records(iter(pages), output_path=str(target), max_xcom_records=0, output_format="csv",
                              time_field=None)  # fmt: skip
    assert summary["records"] == 4
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows == [["id"], [""], [""], ["a"], [""]], "one row per record, as JSON Lines has one line per record"
