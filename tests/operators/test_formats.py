"""Reading record files back: JSON Lines, JSON arrays split anywhere, Parquet; CSV refused."""

from __future__ import annotations

import json

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.formats import iter_json_array, iter_records_file


def test_json_array_elements_are_decoded_across_any_chunk_boundary():
    text = json.dumps([{"_time": "t1", "v": 12345}, {"_time": "t2", "s": "a,]b"}, 7, [1, 2]])
    expected = json.loads(text)
    for size in (1, 2, 3, 7, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert list(iter_json_array(iter(chunks))) == expected, size


def test_json_array_is_consumed_chunk_by_chunk():
    taken = []

    def chunks():
        for i, chunk in enumerate(['[{"a": 1},', '{"a": 2},', '{"a": 3}]']):
            taken.append(i)
            yield chunk

    items = iter_json_array(chunks())
    assert next(items) == {"a": 1}
    assert taken == [0]  # the first element came out of the first chunk, before the rest was read


@pytest.mark.parametrize("text", ['[{"a": 1}', '[{"a": 1},{"a"', "[{'a': 1}]"])
def test_broken_json_arrays_are_reported(text):
    with pytest.raises(MdspConfigError) as err:
        list(iter_json_array(iter([text])))
    assert err.value.field == "input_path"


def test_files_are_read_as_json_lines_json_arrays_or_parquet(tmp_path):
    rows = [{"_time": "2026-05-01T00:00:00Z", "v": 1.5}, {"_time": "2026-05-01T00:01:00Z", "v": 2.5}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    (tmp_path / "a.json").write_text("\n  " + json.dumps(rows, indent=2))
    assert list(iter_records_file(str(tmp_path / "a.jsonl"))) == rows
    assert list(iter_records_file(f"file://{tmp_path / 'a.json'}")) == rows
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    assert list(iter_records_file(str(tmp_path / "a.parquet"))) == rows


def test_csv_input_is_refused_because_it_lost_the_value_types(tmp_path):
    (tmp_path / "a.csv").write_text("_time,v\nt,1\n")
    with pytest.raises(MdspConfigError, match="CSV"):
        list(iter_records_file(str(tmp_path / "a.csv")))


def test_a_bad_json_line_names_the_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"_time": "t"}\nnot json\n')
    with pytest.raises(MdspConfigError, match="not json"):
        list(iter_records_file(str(tmp_path / "a.jsonl")))
