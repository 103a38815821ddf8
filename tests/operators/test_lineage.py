"""Lineage: dataset names, the hook-level collector, and upstream summaries as paths."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import path_value
from airflow_provider_mdsp.operators.lineage import dataset_of, report_to_collector, storage_uri
from airflow_provider_mdsp.operators.timeseries import records_source


@pytest.mark.parametrize(
    ("uri", "dataset"),
    [
        ("mdsp://gateway.eu1.mindsphere.io/abc/PumpData", ("mdsp://gateway.eu1.mindsphere.io", "abc/PumpData")),
        ("mdsp://127.0.0.1:8080/abc/files/r/a.csv", ("mdsp://127.0.0.1:8080", "abc/files/r/a.csv")),
        ("file:///data/a.jsonl", ("file", "/data/a.jsonl")),
        ("/data/a.jsonl", ("file", "/data/a.jsonl")),
        ("s3://aws_conn@bucket/key/a.parquet", ("s3://bucket", "key/a.parquet")),
    ],
)
def test_datasets_are_named_by_gateway_and_asset_or_by_storage_and_path(uri, dataset):
    assert dataset_of(uri) == dataset


def test_the_hook_reports_reads_and_writes_to_airflows_collector(monkeypatch):
    try:
        import airflow.sdk.lineage as lineage
    except ImportError:  # Airflow 3.1
        import airflow.lineage.hook as lineage  # type: ignore[no-redef]

    collector = lineage.HookLineageCollector()
    monkeypatch.setattr(lineage, "get_hook_lineage_collector", lambda: collector)
    hook = object()
    report_to_collector(hook, inputs=["mdsp://gw.example.com/abc/PumpData"], outputs=[storage_uri("/tmp/a.jsonl")])
    got = collector.collected_assets
    assert [(i.asset.uri, i.context) for i in got.inputs] == [("mdsp://gw.example.com/abc/PumpData", hook)]
    assert [o.asset.uri for o in got.outputs] == ["file:///tmp/a.jsonl"]


def test_a_path_parameter_takes_an_upstream_summary_as_it_is(tmp_path):
    summary = {"asset_id": "a", "path": str(tmp_path / "r.jsonl"), "records": 1, "format": "jsonl"}
    assert path_value(summary, "source_path") == summary["path"]
    assert path_value("s3://c@b/k", "source_path") == "s3://c@b/k"
    assert path_value("", "source_path") is None
    with pytest.raises(MdspConfigError, match="output_path") as caught:
        path_value({"records": 2, "data": []}, "input_path")
    assert caught.value.field == "input_path"
    (tmp_path / "r.jsonl").write_text('{"_time": "2026-01-01T00:00:00Z", "x": 1}\n')
    assert list(records_source(None, summary)) == [{"_time": "2026-01-01T00:00:00Z", "x": 1}]
