"""Time-series PATCH: 10 records per request, recent data only, and a resend after a lost reply (§4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import format_time, utcnow

from .conftest import GATEWAY

TS = f"{GATEWAY}/api/iottimeseries/v3/timeseries/a1/PumpData"


def recent(n: int) -> list[dict]:
    now = utcnow()
    return [{"_time": now - timedelta(minutes=n - i), "FlowRate": float(i)} for i in range(n)]


def test_records_are_sent_ten_per_patch_with_api_times(client, requests_mock):
    api = requests_mock.patch(TS, status_code=204)
    records = recent(23)
    written = client.timeseries.patch_timeseries("a1", "PumpData", records)
    assert (written, written.requests) == (23, 3)
    bodies = [r.json() for r in api.request_history]
    assert [len(b) for b in bodies] == [10, 10, 3]
    assert bodies[0][0] == {"_time": format_time(records[0]["_time"]), "FlowRate": 0.0}
    assert api.last_request.headers["Content-Type"] == "application/json"


def test_a_lost_reply_is_resent_because_a_merge_is_idempotent(client, requests_mock):
    api = requests_mock.patch(TS, [{"status_code": 504}, {"status_code": 204}])
    written = client.timeseries.patch_timeseries("a1", "PumpData", recent(1))
    assert (written, written.requests) == (1, 1)  # one request, sent twice by the transport
    assert api.call_count == 2


@pytest.mark.parametrize("age", [timedelta(hours=25), timedelta(minutes=-5)])
def test_data_older_than_a_day_or_in_the_future_is_refused_before_sending(client, requests_mock, age):
    api = requests_mock.patch(TS, status_code=204)
    with pytest.raises(MdspConfigError, match="last 24 hours"):
        client.timeseries.patch_timeseries("a1", "PumpData", [{"_time": utcnow() - age, "FlowRate": 1.0}])
    assert not api.called
