"""Asset watchers: new events and new time series, reported once, also after a restart; one poll per interval."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import utcnow
from airflow_provider_mdsp.triggers import watch_state as ws
from airflow_provider_mdsp.triggers.watchers import MdspNewEventsTrigger, MdspNewTimeSeriesTrigger
from tests.helpers.time import waits_on_emulator

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LATE = timedelta(minutes=5)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- pure state --------------------------------------------------------------------------------


def test_state_key_names_what_is_watched_not_how_often():
    one = MdspNewEventsTrigger(type_id="demo.PumpAlarm", poll_interval=10)
    same = MdspNewEventsTrigger(type_id="demo.PumpAlarm", poll_interval=60)
    other = MdspNewEventsTrigger(type_id="demo.PumpAlarm", severity=20)
    assert one.state_key() == same.state_key() != other.state_key()
    assert one.state_key().startswith(ws.STATE_KEY_PREFIX)


def test_a_late_event_is_reported_once_and_forgotten_after_the_lateness_allowance():
    state = ws.new_event_state(T0)
    assert ws.event_window_start(state, LATE) == T0  # never before the first start
    first = [{"id": "e1", "timestamp": stamp(T0 + timedelta(seconds=10))}]
    state = ws.advance_event_state(
        state, ws.unseen_events(state, first), checked=T0 + timedelta(minutes=1), lateness=LATE
    )
    # The next poll asks again for events from T0 on (lateness) and gets e1 again plus a late e2.
    answer = [*first, {"id": "e2", "timestamp": stamp(T0 + timedelta(seconds=5)), "_links": {}}]
    fresh = ws.unseen_events(state, answer)
    assert fresh == [{"id": "e2", "timestamp": stamp(T0 + timedelta(seconds=5))}]
    later = ws.advance_event_state(state, fresh, checked=T0 + timedelta(minutes=20), lateness=LATE)
    assert later["seen"] == {}  # both older than checked - lateness: no poll can return them again
    assert ws.event_window_start(later, LATE) == T0 + timedelta(minutes=15)


def test_timeseries_windows_adjoin_and_wait_for_the_settle_time():
    state = ws.new_timeseries_state(T0)
    assert ws.timeseries_window(state, T0 + timedelta(seconds=30), timedelta(minutes=1)) is None
    window = ws.timeseries_window(state, T0 + timedelta(minutes=5), timedelta(minutes=1))
    assert window == (T0, T0 + timedelta(minutes=4))
    report = ws.timeseries_report("a1", "PumpData", window, stamp(T0 + timedelta(minutes=2)))
    assert (report["from"], report["to"]) == (stamp(T0), stamp(T0 + timedelta(minutes=4)))


def test_watcher_payloads_of_a_run_are_each_batch_once_oldest_first():
    class Event:
        def __init__(self, when: str, payload: dict) -> None:
            self.timestamp, self.extra = when, {"from_trigger": True, "payload": payload}

    a, b = ws.events_report([{"id": "e2"}], more=False), ws.events_report([{"id": "e1"}], more=False)
    events = {"asset-1": [Event("2026-03-01T12:01", a), Event("2026-03-01T12:00", b)], "asset-2": [Event("x", a)]}
    assert [p["event_ids"] for p in ws.watcher_payloads(events)] == [["e1"], ["e2"]]
    assert ws.watcher_payloads({"asset": [Event("t", {"size": 3})]}) == []  # not a watcher's event


def test_watchers_serialise_to_plain_json_and_refuse_bad_arguments():
    trigger = MdspNewEventsTrigger(type_id="demo.PumpAlarm", entity_id="abc", severity=20, poll_interval=5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_mdsp.triggers.watchers.MdspNewEventsTrigger"
    rebuilt = MdspNewEventsTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["filter"] == {"typeId": "demo.PumpAlarm", "entityId": "abc", "severity": 20}
    with pytest.raises(MdspConfigError, match="poll_interval"):
        MdspNewEventsTrigger(poll_interval=0)
    with pytest.raises(MdspConfigError, match="start_after"):
        MdspNewTimeSeriesTrigger(asset_id="a", aspect="b", start_after="yesterday")
    with pytest.raises(MdspConfigError, match="aspect"):
        MdspNewTimeSeriesTrigger(asset_id="a", aspect="")


def test_a_watcher_closes_its_hook_when_it_is_cancelled(monkeypatch):
    closed: list = []

    class Hook:
        def close(self) -> None:
            closed.append(self)

    trigger = MdspNewEventsTrigger(poll_interval=60)
    monkeypatch.setattr(trigger, "make_hook", Hook)
    monkeypatch.setattr(trigger, "poll", lambda hook, state, now: (None, state))
    collect(trigger, StateStore(), polls=1)
    assert len(closed) == 1


# --- against the emulator ----------------------------------------------------------------------


class StateStore:
    """The asset state store a 3.3 triggerer injects, for one watched asset (kept across 'restarts')."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def _single_accessor(self) -> StateStore:
        return self

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)


def collect(trigger: Any, store: StateStore, *, polls: int, between: Any = None) -> list[dict]:
    """Run a watcher for ``polls`` polls (its sleeps return at once) and return the payloads it fired."""
    trigger.asset_state_store = store
    fired: list[dict] = []

    async def main() -> None:
        sleeps = 0

        async def fake_sleep(seconds: float) -> None:
            nonlocal sleeps
            assert seconds == trigger.poll_interval  # one poll, then one full interval
            sleeps += 1
            if between is not None:
                await asyncio.to_thread(between, sleeps)
            if sleeps >= polls:
                raise asyncio.CancelledError

        trigger.pause = fake_sleep
        try:
            async for event in trigger.run():
                fired.append(event.payload)
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return fired


def event_searches(emulator: Any) -> int:
    calls = emulator.stats()["calls"]
    return sum(n for endpoint, n in calls.items() if endpoint.startswith("GET") and endpoint.endswith("/events"))


@pytest.mark.integration
def test_new_events_fire_one_batch_each_once_and_not_again_after_a_restart(emulator_connection):
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    client = MdspHook().client
    pump = emulator_connection.demo_assets()["Pump-A1-1"]
    type_id = "demo.PumpAlarm"
    store = StateStore()

    def create(n: int) -> None:
        if n == 1:  # after the first poll: three alarms at once
            for i in range(3):
                client.events.create_event(
                    {"entityId": pump, "typeId": type_id, "variable": f"alarm {i}", "temperature": 90.0 + i},
                    sleep=time.sleep,
                )

    emulator_connection.reset_stats()
    first = collect(MdspNewEventsTrigger(type_id=type_id, poll_interval=30), store, polls=3, between=create)
    assert [p["count"] for p in first] == [3]
    assert [e["variable"] for e in first[0]["events"]] == ["alarm 0", "alarm 1", "alarm 2"]
    assert event_searches(emulator_connection) == 3  # one search per poll, none in between

    # A restarted triggerer builds the trigger anew from its kwargs and finds the saved state.
    again = collect(MdspNewEventsTrigger(type_id=type_id, poll_interval=30), store, polls=2)
    assert again == []

    def one_more(n: int) -> None:
        client.events.create_event({"entityId": pump, "typeId": type_id, "variable": "alarm 3"}, sleep=time.sleep)

    more = collect(MdspNewEventsTrigger(type_id=type_id, poll_interval=30), store, polls=2, between=one_more)
    assert [[e["variable"] for e in p["events"]] for p in more] == [["alarm 3"]]
    # The seeded alarms of the last days were never reported: they predate the watcher.
    assert sum(p["count"] for p in first + more) == 4


@pytest.mark.integration
def test_new_time_series_fire_adjoining_windows_and_not_again_after_a_restart(monkeypatch):
    from airflow_provider_mdsp.emulator import run_emulator
    from tests.integration.conftest import emulator_conn_json

    # An emulator of its own: the test moves its clock 1.1 s between polls, so that each poll finds
    # newly generated 1 s records, without waiting for them in real time.
    with run_emulator(mode="thread") as emulator, waits_on_emulator(emulator) as clock:
        monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_conn_json(emulator.url))
        asset = emulator.demo_assets()["bench-motor"]  # 1 s vibration data, generated up to the emulator's now
        start = utcnow() - timedelta(seconds=5)
        store = StateStore()

        def trigger() -> MdspNewTimeSeriesTrigger:
            return MdspNewTimeSeriesTrigger(
                asset_id=asset, aspect="Vibration", start_after=stamp(start), poll_interval=10
            )

        fired = collect(trigger(), store, polls=3, between=lambda n: clock.advance(1.1))
        assert len(fired) == 3
        assert fired[0]["from"] == stamp(start)
        for before, after in itertools.pairwise(fired):
            assert after["from"] == before["to"]  # adjoining: no gap, no overlap
            assert before["first_time"] > before["from"]
        restarted = collect(trigger(), store, polls=2, between=lambda n: clock.advance(1.1))
        assert restarted[0]["from"] == fired[-1]["to"]  # carries on where it stopped: nothing read twice
