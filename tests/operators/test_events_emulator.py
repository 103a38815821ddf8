"""Event operators and sensors against the emulator: windows, filters and creation as the service sees them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_mdsp.operators.events import MdspCreateEventOperator, MdspQueryEventsOperator
from airflow_provider_mdsp.sensors.events import MdspEventSensor
from airflow_provider_mdsp.sensors.timeseries import MdspTimeSeriesSensor
from tests.helpers.gateway import live_emulator

pytestmark = pytest.mark.integration

TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with live_emulator() as emulator:  # this module's own: it creates events
        yield emulator


def run(start: datetime | None, end: datetime | None, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"dag_run": SimpleNamespace(run_after=end or datetime.now(timezone.utc)), **extra}
    if start and end:
        context.update(data_interval_start=start, data_interval_end=end)
    return context


def test_query_reads_the_pump_alarms_of_the_data_interval_oldest_first(emu):
    pump = emu.demo_assets()["Pump-A1-1"]
    op = MdspQueryEventsOperator(task_id="q", type_id="demo.PumpAlarm", entity_id=pump, page_size=2)
    result = op.execute(run(TODAY - timedelta(days=4), TODAY))
    noon = [(TODAY - timedelta(days=d, hours=-12)).strftime("%Y-%m-%dT%H:%M:%S.000Z") for d in (3, 2, 1)]
    assert [e["timestamp"] for e in result["data"]] == noon  # two pages (2 + 1), window [from, to)
    assert (result["records"], result["first_time"], result["last_time"]) == (3, noon[0], noon[-1])
    one_day = op.execute(run(TODAY - timedelta(days=1), TODAY))
    assert [e["timestamp"] for e in one_day["data"]] == noon[-1:]


def test_query_with_a_filter_on_a_custom_field(emu):
    op = MdspQueryEventsOperator(
        task_id="q", type_id="demo.PumpAlarm", filter='{"variable": "Temperature"}', max_xcom_records=10
    )
    assert op.execute(run(TODAY - timedelta(days=4), TODAY))["records"] == 3


def test_created_events_are_found_by_the_sensor_and_the_query(emu):
    motor = emu.demo_assets()["Motor-A2"]
    when = datetime.now(timezone.utc) - timedelta(minutes=1)
    sensor = MdspEventSensor(
        task_id="s", entity_id=motor, filter={"source": "airflow-it"}, after=(when - timedelta(minutes=1)).isoformat()
    )
    assert sensor.poke(run(None, None)) is False
    created = MdspCreateEventOperator(
        task_id="alarm",
        entity_id=motor,
        severity=1,
        source="airflow-it",
        description="Overcurrent",
        events=[{"timestamp": when.isoformat()}, {"timestamp": (when + timedelta(seconds=1)).isoformat()}],
    ).execute(run(None, None, run_id="manual__it", ti=SimpleNamespace(try_number=1, map_index=-1)))
    assert created["created"] == 2
    found = sensor.poke(run(None, None)).xcom_value
    assert (found["count"], found["event_ids"], found["truncated"]) == (2, created["event_ids"], False)
    queried = MdspQueryEventsOperator(task_id="q", entity_id=motor, filter={"source": "airflow-it"}).execute(
        run(when - timedelta(minutes=5), when + timedelta(minutes=5))
    )
    assert [e["id"] for e in queried["data"]] == created["event_ids"]
    assert queried["data"][0]["description"] == "Overcurrent"


def test_a_retried_create_finds_the_event_of_its_first_try(emu):
    motor = emu.demo_assets()["Motor-B1"]
    op = MdspCreateEventOperator(task_id="alarm", entity_id=motor, severity=3, source="airflow-retry")
    first = op.execute(
        run(TODAY, TODAY + timedelta(hours=1), run_id="r1", ti=SimpleNamespace(try_number=1, map_index=-1))
    )
    again = op.execute(
        run(TODAY, TODAY + timedelta(hours=1), run_id="r1", ti=SimpleNamespace(try_number=2, map_index=-1))
    )
    assert again["event_ids"] == first["event_ids"]
    assert (first["created"], first["existing"], again["created"], again["existing"]) == (1, 0, 0, 1)
    other_run = op.execute(
        run(TODAY, TODAY + timedelta(hours=1), run_id="r2", ti=SimpleNamespace(try_number=2, map_index=-1))
    )
    assert other_run["event_ids"] != first["event_ids"]


def test_time_series_sensor_sees_the_newest_minute_and_nothing_in_the_future(emu):
    motor = emu.demo_assets()["Motor-A1"]
    now = datetime.now(timezone.utc)
    after = (now - timedelta(minutes=10)).replace(second=30, microsecond=0)
    sensor = MdspTimeSeriesSensor(task_id="s", asset_id=motor, aspect="MotorData", after=after.isoformat())
    found = dict(sensor.poke(run(None, None)).xcom_value)
    expected_first = (after + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert found.pop("to") >= now.strftime("%Y-%m-%dT%H:%M:%S")  # the end of the window it looked at
    assert found == {
        "asset_id": motor,
        "aspect": "MotorData",
        "after": after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "first_time": expected_first,
    }
    future = MdspTimeSeriesSensor(
        task_id="f", asset_id=motor, aspect="MotorData", after=(now + timedelta(hours=1)).isoformat()
    )
    assert future.poke(run(None, None)) is False
