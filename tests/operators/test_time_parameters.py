"""Every operator and sensor parameter that takes a time reads fractions, ``Z`` and ``+0200`` alike.

The parsing runs as on Python 3.10 (``python310`` puts 3.10's stricter ``fromisoformat`` in place),
and each value must reach the API rendered as the same UTC instant. Aggregates take whole intervals
only (§5), so their bounds carry no fraction.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from airflow_provider_mdsp.operators.aggregates import MdspReadAggregatesOperator
from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
from airflow_provider_mdsp.operators.events import MdspCreateEventOperator, MdspQueryEventsOperator
from airflow_provider_mdsp.operators.timeseries import MdspReadTimeSeriesOperator
from airflow_provider_mdsp.sensors.events import MdspEventSensor
from airflow_provider_mdsp.sensors.timeseries import MdspTimeSeriesSensor
from tests.helpers.mock_gateway import GATEWAY, PUMP, api_calls, connect, context
from tests.helpers.time import SAME_INSTANT

FROM = "2026-05-01T10:00:00.500Z"  # every value of SAME_INSTANT names this instant
TO = "2026-05-01T11:15:00.250Z"
TO_SPELLINGS = ["2026-05-01T11:15:00.25Z", "2026-05-01T13:15:00.25+0200"]
WHOLE_MINUTES = {
    "2026-05-01T12:00+0200": "2026-05-01T10:00:00.000Z",
    "2026-05-01T11:30:00.000Z": "2026-05-01T11:30:00.000Z",
}

TASKS = {
    "read time series": lambda t, u: MdspReadTimeSeriesOperator(
        task_id="t", asset_id=PUMP, aspect="Vibration", from_time=t, to_time=u
    ),
    "query events": lambda t, u: MdspQueryEventsOperator(task_id="t", from_time=t, to_time=u),
    "create event": lambda t, u: MdspCreateEventOperator(task_id="t", entity_id=PUMP, timestamp=t),
    "bulk import files": lambda t, u: MdspBulkImportOperator(
        task_id="t", entity_id=PUMP, aspect="Vibration", files=[{"filePath": "f.json", "from": t, "to": u}], wait=False
    ),
    "time-series sensor": lambda t, u: MdspTimeSeriesSensor(task_id="t", asset_id=PUMP, aspect="Vibration", after=t),
    "event sensor": lambda t, u: MdspEventSensor(task_id="t", after=t),
}


def answer(request, context_):
    """Answer any API call with an empty result of the shape its service uses."""
    if "/eventmanagement/" in request.path:
        if request.method == "POST":
            context_.status_code = 201
            return json.dumps({"id": "e1", **request.json()})
        return json.dumps({"page": {"number": 0, "size": 100, "totalPages": 0}})
    if "/iottsbulk/" in request.path:
        context_.status_code = 201
        return json.dumps({"id": "job-1", "status": "SUBMITTED"})
    return "[]"


@pytest.fixture
def gateway(mdsp_connection, requests_mock, manual_clock):
    connect(mdsp_connection, requests_mock)
    requests_mock.register_uri("GET", re.compile(GATEWAY), text=answer)
    requests_mock.register_uri("POST", re.compile(f"{GATEWAY}/api/"), text=answer)
    return requests_mock


def sent(requests_mock) -> str:
    return " ".join(unquote(r.url) + " " + (r.text or "") for r in api_calls(requests_mock))


@pytest.mark.parametrize("index", range(len(SAME_INSTANT)))
@pytest.mark.parametrize("task", list(TASKS))
def test_a_time_reaches_the_api_as_the_same_utc_instant(python310, gateway, task, index):
    op = TASKS[task](SAME_INSTANT[index], TO_SPELLINGS[index % 2])
    if isinstance(op, (MdspTimeSeriesSensor, MdspEventSensor)):
        op.poke(context())
    else:
        op.execute(context())
    assert FROM in sent(gateway)
    if "sensor" not in task and task != "create event":
        assert TO in sent(gateway)


def test_aggregate_bounds_read_offsets_without_colon_on_python310(python310, gateway):
    (start, start_utc), (end, end_utc) = WHOLE_MINUTES.items()
    MdspReadAggregatesOperator(
        task_id="t",
        asset_id=PUMP,
        aspect="Vibration",
        from_time=start,
        to_time=end,
        interval_unit="minute",
        interval_value=30,
    ).execute(context())
    assert start_utc in sent(gateway)
    assert end_utc in sent(gateway)
