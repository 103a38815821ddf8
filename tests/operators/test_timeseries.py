"""Time-series operators: the window rules, the exact requests, the XCom summaries, files in and out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspPartialWriteError
from airflow_provider_mdsp.operators.timeseries import (
    MdspReadTimeSeriesOperator,
    MdspWriteTimeSeriesMultiOperator,
    MdspWriteTimeSeriesOperator,
    records_source,
)
from tests.helpers.mock_gateway import END, PUMP, PUMP2, START, TS, api_calls, connect, context, query, records

URL = f"{TS}/{PUMP}/Vibration"


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def read(**kwargs):
    return MdspReadTimeSeriesOperator(task_id="read", asset_id=PUMP, aspect="Vibration", **kwargs)


# --- the window --------------------------------------------------------------------------------


def test_the_window_defaults_to_the_runs_data_interval(gateway, requests_mock):
    requests_mock.get(URL, json=[])
    read().execute(context())
    (call,) = api_calls(requests_mock)
    assert query(call) == {"from": "2026-05-01T00:00:00.000Z", "to": "2026-05-02T00:00:00.000Z", "limit": "2000"}


def test_explicit_times_win_over_the_interval_and_may_be_iso_strings(gateway, requests_mock):
    requests_mock.get(URL, json=[])
    result = read(from_time="2026-04-01T06:00:00+02:00", to_time="2026-04-01T05:00:00Z").execute(context())
    assert query(api_calls(requests_mock)[0])["from"] == "2026-04-01T04:00:00.000Z"
    assert (result["from"], result["to"]) == ("2026-04-01T04:00:00.000Z", "2026-04-01T05:00:00.000Z")


def test_a_run_without_interval_reads_the_lookback_before_the_run(gateway, requests_mock):
    requests_mock.get(URL, json=[])
    result = read(lookback=timedelta(hours=6)).execute(context(start=None, end=None))
    assert (result["from"], result["to"]) == ("2026-04-30T18:00:00.000Z", "2026-05-01T00:00:00.000Z")


def test_an_empty_window_returns_zero_records_without_calling_the_api(gateway, requests_mock, tmp_path):
    moment = "2026-05-01T00:00:00Z"
    result = read(from_time=moment, to_time=moment).execute(context())
    assert result == {
        "asset_id": PUMP,
        "aspect": "Vibration",
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-01T00:00:00.000Z",
        "records": 0,
        "first_time": None,
        "last_time": None,
        "data": [],
    }
    out = tmp_path / "empty.jsonl"
    assert read(from_time=moment, to_time=moment, output_path=str(out)).execute(context())["records"] == 0
    assert out.read_text() == ""  # downstream readers of the path still find a file
    assert requests_mock.request_history == []


def test_to_before_from_is_a_clear_error_before_any_call(gateway, requests_mock):
    with pytest.raises(MdspConfigError, match="before from_time") as err:
        read(from_time="2026-05-02T00:00:00Z", to_time="2026-05-01T00:00:00Z").execute(context())
    assert err.value.field == "to_time"
    assert requests_mock.request_history == []


def test_a_naive_time_is_refused(gateway):
    with pytest.raises(MdspConfigError, match="time zone"):
        read(from_time="2026-05-01T00:00:00").execute(context())


# --- reading -----------------------------------------------------------------------------------


def test_read_follows_the_link_header_and_returns_a_small_summary(gateway, requests_mock):
    first, second = records(3), records(2, start=START + timedelta(minutes=3))
    next_url = f"{URL}?from=2026-05-01T00:03:00.000Z&to=2026-05-02T00:00:00.000Z&limit=3&select=rms"
    requests_mock.get(
        URL,
        [
            {"json": first, "headers": {"Link": f'<{next_url}>; rel="next"'}},
            {"json": second},
        ],
    )
    result = read(variables=["rms", " peak "], limit=3, concurrency=1).execute(context())
    calls = api_calls(requests_mock)
    assert query(calls[0]) == {
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-02T00:00:00.000Z",
        "limit": "3",
        "select": "rms,peak",
    }
    assert query(calls[1])["from"] == "2026-05-01T00:03:00.000Z"
    assert result == {
        "asset_id": PUMP,
        "aspect": "Vibration",
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-02T00:00:00.000Z",
        "records": 5,
        "first_time": "2026-05-01T00:01:00.000Z",
        "last_time": "2026-05-01T00:05:00.000Z",
        "data": first + second,
    }


def test_a_big_read_without_output_path_fails_and_names_output_path(gateway, requests_mock):
    requests_mock.get(URL, json=records(20))
    with pytest.raises(MdspConfigError, match="output_path") as err:
        read(max_xcom_records=10).execute(context())
    assert err.value.field == "output_path"


def test_read_into_a_file_returns_the_path(gateway, requests_mock, tmp_path):
    requests_mock.get(URL, json=records(20))
    out = tmp_path / "2026-05-01" / f"{PUMP}.jsonl"
    result = read(output_path=f"file://{out}", max_xcom_records=10).execute(context())
    assert result["path"] == f"file://{out}"
    assert result["records"] == 20
    assert "data" not in result
    assert [json.loads(line) for line in out.read_text().splitlines()] == records(20)


# --- writing -----------------------------------------------------------------------------------


def test_write_sends_the_records_and_counts_requests(gateway, requests_mock):
    put = requests_mock.put(URL, status_code=204)
    result = MdspWriteTimeSeriesOperator(task_id="w", asset_id=PUMP, aspect="Vibration", records=records(3)).execute(
        context()
    )
    span = {"first_time": records(3)[0]["_time"], "last_time": records(3)[-1]["_time"]}
    assert result == {"asset_id": PUMP, "aspect": "Vibration", "records": 3, "requests": 1, **span}
    assert json.loads(put.last_request.body) == records(3)
    assert put.last_request.headers["Content-Type"] == "application/json"


def test_large_writes_are_split_by_the_client_under_the_size_limit(gateway, requests_mock):
    put = requests_mock.put(URL, status_code=204)
    big = records(30, pad="x" * 60_000)  # ~1.8 MB: more than one 1 MB body
    result = MdspWriteTimeSeriesOperator(task_id="w", asset_id=PUMP, aspect="Vibration", records=big).execute({})
    assert result["records"] == 30
    assert result["requests"] == put.call_count >= 2
    assert sum(len(json.loads(r.body)) for r in put.request_history) == 30


def test_write_takes_the_read_operators_xcom_result_directly(gateway, requests_mock, tmp_path):
    put = requests_mock.put(URL, status_code=204)
    op = MdspWriteTimeSeriesOperator(task_id="w", asset_id=PUMP, aspect="Vibration", records=None)
    op.records = {"records": 2, "data": records(2)}
    assert op.execute({})["records"] == 2
    out = tmp_path / "r.jsonl"
    out.write_text("\n".join(json.dumps(r) for r in records(4)))
    op.records = {"path": f"file://{out}", "records": 4}
    assert op.execute({})["records"] == 4
    assert json.loads(put.last_request.body) == records(4)


def test_write_streams_a_json_array_file(gateway, requests_mock, tmp_path):
    put = requests_mock.put(URL, status_code=204)
    src = tmp_path / "in.json"
    src.write_text(json.dumps(records(5)))
    op = MdspWriteTimeSeriesOperator(task_id="w", asset_id=PUMP, aspect="Vibration", input_path=f"file://{src}")
    assert op.execute({})["records"] == 5
    assert json.loads(put.last_request.body) == records(5)


@pytest.mark.parametrize(
    ("records_arg", "input_path", "field", "message"),
    [
        (None, None, "records", "Nothing to write"),
        ([{"_time": "t"}], "/x.jsonl", "input_path", "not both"),
        ("{{ not rendered natively }}", None, "records", "render_template_as_native_obj"),
        ({"unexpected": 1}, None, "records", "without 'data' or 'path'"),
    ],
)
def test_write_sources_are_checked(records_arg, input_path, field, message):
    with pytest.raises(MdspConfigError, match=message) as err:
        records_source(records_arg, input_path)
    assert err.value.field == field


def test_json_text_records_are_accepted_for_templates_rendered_as_strings():
    assert list(records_source(json.dumps(records(2)), None)) == records(2)


# --- multi-entity writes ------------------------------------------------------------------------


def items():
    return [
        {"entityId": PUMP, "propertySetName": "Vibration", "data": records(2)},
        {"entityId": PUMP2, "propertySetName": "Vibration", "data": records(1)},
    ]


def test_multi_write_sends_one_request_and_reports_counts(gateway, requests_mock):
    put = requests_mock.put(TS, status_code=202, json=[])
    result = MdspWriteTimeSeriesMultiOperator(task_id="m", items=items()).execute({})
    assert result == {"requests": 1, "records": 3, "errors": [], "pairs": 2}
    assert [p["entityId"] for p in json.loads(put.last_request.body)["timeseries"]] == [PUMP, PUMP2]


def test_multi_write_partial_errors_fail_the_task_and_list_every_error(gateway, requests_mock):
    refused = {"entityId": PUMP2, "propertySetName": "Vibration", "status": 404, "message": "asset not found"}
    requests_mock.put(TS, status_code=202, json=[refused])
    pushed = {}
    ti = type("TI", (), {"xcom_push": lambda self, key, value: pushed.update({key: value})})()
    with pytest.raises(MdspPartialWriteError, match=f"{PUMP2}/Vibration: HTTP 404 asset not found") as err:
        MdspWriteTimeSeriesMultiOperator(task_id="m", items=items()).execute({"ti": ti})
    assert err.value.errors == [refused]
    assert pushed["summary"]["records"] == 2


def test_multi_write_can_succeed_with_errors_in_the_summary(gateway, requests_mock):
    refused = {"entityId": PUMP2, "propertySetName": "Vibration", "status": 400, "message": "bad variable"}
    requests_mock.put(TS, status_code=202, json=[refused])
    op = MdspWriteTimeSeriesMultiOperator(task_id="m", items=items(), fail_on_partial_errors=False)
    result = op.execute({})
    assert result["errors"] == [refused]
    assert result["records"] == 2


def test_multi_items_must_name_their_pair(gateway):
    with pytest.raises(MdspConfigError, match="entityId") as err:
        MdspWriteTimeSeriesMultiOperator(task_id="m", items=[{"data": []}]).execute({})
    assert err.value.field == "items"


def test_multi_items_rendered_to_text_name_the_fix(gateway):
    with pytest.raises(MdspConfigError, match="render_template_as_native_obj") as err:
        MdspWriteTimeSeriesMultiOperator(task_id="m", items="{{ not rendered natively }}").execute({})
    assert err.value.field == "items"


def test_times_in_summaries_are_utc_milliseconds(gateway, requests_mock):
    requests_mock.get(URL, json=[])
    start = datetime(2026, 5, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    result = read(from_time=start, to_time=END).execute(context())
    assert result["from"] == "2026-05-01T00:00:00.000Z"
