"""A read that fails mid-way never leaves a file at ``output_path`` that looks complete."""

from __future__ import annotations

import io

import pytest
import requests
from urllib3 import HTTPResponse

from airflow_provider_mdsp.exceptions import MdspError
from airflow_provider_mdsp.hooks.mdsp import MdspHook
from airflow_provider_mdsp.operators.output import deliver_records
from tests.badinput.conftest import TS_URL, records

WINDOW = {"from_": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
PAGE2, PAGE3 = f"{TS_URL}?page=2", f"{TS_URL}?page=3"


def cut_connection() -> dict:
    body = HTTPResponse(
        body=io.BytesIO(b'[{"_time":"2026-01-01T00:'),
        headers={"Content-Length": "4096"},
        status=200,
        preload_content=False,
        enforce_content_length=True,
    )
    return {"raw": body}


FAILURES = {
    "server error that outlasts the retries": lambda: {"status_code": 500, "json": {"message": "boom"}},
    "connection reset": lambda: {"exc": requests.exceptions.ConnectionError("connection reset by peer")},
    "connection cut mid-body": cut_connection,
    "HTML page from a proxy": lambda: {"text": "<html>login</html>", "headers": {"Content-Type": "text/html"}},
    "truncated JSON": lambda: {"text": '[{"_time":"2026-01-01T00:', "headers": {"Content-Type": "application/json"}},
    "next link to another host": lambda: {
        "json": records(4, 2),
        "headers": {"Link": '<https://evil.example/x>; rel="next"'},
    },
}


@pytest.fixture
def failing_on_page3(requests_mock):
    """Pages 1 and 2 answer records; page 3 fails as the test says, on every attempt."""

    def arrange(failure: str) -> None:
        requests_mock.get(TS_URL, json=records(0, 2), headers={"Link": f'<{PAGE2}>; rel="next"'})
        requests_mock.get(PAGE2, json=records(2, 2), headers={"Link": f'<{PAGE3}>; rel="next"'})
        requests_mock.get(PAGE3, [FAILURES[failure]() for _ in range(3)])

    return arrange


def extract(conn: str, output_path: str, output_format: str = "jsonl") -> dict:
    pages = MdspHook(conn).client.timeseries.iter_timeseries_pages("asset1", "Vibration", **WINDOW)
    return deliver_records(pages, output_path=output_path, max_xcom_records=10, output_format=output_format)


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failure_mid_stream_leaves_no_file_at_the_output_path(conn, token, failing_on_page3, tmp_path, failure):
    failing_on_page3(failure)
    target = tmp_path / "out" / "vibration.jsonl"
    with pytest.raises(MdspError):
        extract(conn, str(target))
    assert not target.exists()
    assert list(target.parent.iterdir()) == [], "no temporary file is left behind either"


@pytest.mark.parametrize("output_format", ["jsonl", "csv", "parquet"])
def test_a_failed_rerun_keeps_the_previous_complete_file(conn, token, failing_on_page3, tmp_path, output_format):
    if output_format == "parquet":
        pytest.importorskip("pyarrow")
    target = tmp_path / f"vibration.{output_format}"
    target.write_bytes(b"previous run's complete file")
    failing_on_page3("server error that outlasts the retries")
    with pytest.raises(MdspError):
        extract(conn, f"file://{target}", output_format)
    assert target.read_bytes() == b"previous run's complete file"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_the_same_read_without_the_failure_writes_every_record(conn, token, requests_mock, tmp_path):
    requests_mock.get(TS_URL, json=records(0, 2), headers={"Link": f'<{PAGE2}>; rel="next"'})
    requests_mock.get(PAGE2, json=records(2, 2))
    target = tmp_path / "vibration.jsonl"
    summary = extract(conn, str(target))
    assert summary["records"] == 4
    assert len(target.read_text().splitlines()) == 4


def test_the_read_operator_leaves_no_file_when_the_stream_fails(conn, token, failing_on_page3, tmp_path):
    from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator

    failing_on_page3("connection cut mid-body")
    target = tmp_path / "vibration.jsonl"
    read = MdspReadTimeSeriesOperator(
        task_id="read",
        mdsp_conn_id=conn,
        asset_id="asset1",
        aspect="Vibration",
        from_time=WINDOW["from_"],
        to_time=WINDOW["to"],
        output_path=str(target),
    )
    with pytest.raises(MdspError):
        read.execute(context={})
    assert list(tmp_path.iterdir()) == []
