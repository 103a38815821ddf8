"""MdspReadAggregatesOperator: the service's rules checked before any call, the window, the summary."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator
from tests.helpers.mock_gateway import AGG, PUMP, api_calls, connect, context, query


@pytest.fixture
def gateway(mdsp_connection, requests_mock):
    return connect(mdsp_connection, requests_mock)


def aggregates(**kwargs):
    return MdspReadAggregatesOperator(task_id="agg", asset_id=PUMP, aspect="Vibration", **kwargs)


def interval(hour):
    return {
        "starttime": f"2026-05-01T{hour:02d}:00:00Z",
        "endtime": f"2026-05-01T{hour + 1:02d}:00:00Z",
        "rms": {"average": 1.5, "minvalue": 1.0, "maxvalue": 2.0, "countgood": 60},
    }


def test_hourly_aggregates_of_the_data_interval(gateway, requests_mock):
    requests_mock.get(AGG, json={"aggregates": [interval(0), interval(1)]})
    result = aggregates(variables="rms").execute(context())
    assert query(api_calls(requests_mock)[0]) == {
        "assetId": PUMP,
        "aspectName": "Vibration",
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-02T00:00:00.000Z",
        "intervalValue": "1",
        "intervalUnit": "hour",
        "select": "rms",
    }
    assert result == {
        "asset_id": PUMP,
        "aspect": "Vibration",
        "from": "2026-05-01T00:00:00.000Z",
        "to": "2026-05-02T00:00:00.000Z",
        "interval_unit": "hour",
        "interval_value": 1,
        "records": 2,
        "first_time": "2026-05-01T00:00:00.000Z",
        "last_time": "2026-05-01T01:00:00.000Z",
        "data": [interval(0), interval(1)],
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"interval_unit": "second"}, "interval_unit", "minute|hour|day|week|month"),
        ({"interval_unit": "minute", "interval_value": 3}, "interval_value", "even"),
        ({"interval_unit": "hour", "interval_value": 25}, "interval_value", "1–24"),
        ({"interval_unit": "minute", "interval_value": 2, "from_time": "2026-04-01T00:00:00Z"}, "to_time", "24 hours"),
        ({"interval_unit": None}, "interval_unit", "required"),
    ],
)
def test_requests_the_service_would_refuse_fail_before_any_call(gateway, requests_mock, kwargs, field, message):
    with pytest.raises(MdspConfigError, match=message) as err:
        aggregates(**kwargs).execute(context())
    assert err.value.field == field
    assert requests_mock.request_history == []


def test_templated_interval_values_may_be_strings(gateway, requests_mock):
    requests_mock.get(AGG, json={"aggregates": []})
    result = aggregates(interval_unit="Day", interval_value="1").execute(context())
    assert query(api_calls(requests_mock)[0])["intervalUnit"] == "day"
    assert (result["interval_unit"], result["interval_value"], result["records"]) == ("day", 1, 0)


def test_an_empty_window_calls_nothing(gateway, requests_mock):
    at = "2026-05-01T00:00:00Z"
    assert aggregates(from_time=at, to_time=at).execute(context())["records"] == 0
    assert requests_mock.request_history == []


def test_aggregates_into_a_file(gateway, requests_mock, tmp_path):
    requests_mock.get(AGG, json={"aggregates": [interval(h) for h in range(3)]})
    out = tmp_path / "agg.jsonl"
    result = aggregates(output_path=str(out)).execute(context())
    assert result["records"] == 3
    assert len(out.read_text().splitlines()) == 3
