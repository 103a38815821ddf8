"""An AssetWatcher on new alarm events, through a real dag-processor, scheduler and triggerer.

Three alarms created in the emulator start runs that together handle each alarm exactly once
(one batch run when the three land between two polls); after the triggerer is restarted no run
repeats them, and a fourth alarm still starts a run. Airflow's own processes run on a throwaway
SQLite home; the test reads the outcome from that database. Bounded: about a minute here, and
every wait has a deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.airflow_home import (
    QUICK_SCHEDULER,
    ROOT,
    Processes,
    airflow_env,
    airflow_running,
    query,
    wait_for,
)
from tests.integration.conftest import emulator_conn_json

pytestmark = [pytest.mark.dag, pytest.mark.integration]

DAGS = ROOT / "tests" / "watcher_dags"
DAG_ID = "mdsp_on_alarm_batches"
POLL_SECONDS = 2


def watcher_batches(db: Path) -> list[list[str]]:
    rows = query(db, "SELECT extra FROM asset_event ORDER BY id")
    batches = []
    for (extra,) in rows:
        payload = (json.loads(extra) if isinstance(extra, str) else extra or {}).get("payload") or {}
        if payload.get("kind") == "events":
            batches.append(list(payload["event_ids"]))
    return batches


def reported(db: Path) -> list[str]:
    """Return the event ids of every batch the watcher reported, in order."""
    return [event_id for batch in watcher_batches(db) for event_id in batch]


def all_runs(db: Path) -> list[str]:
    """Return the states of the consumer DAG's runs, oldest first."""
    return [state for (state,) in query(db, f"SELECT state FROM dag_run WHERE dag_id = '{DAG_ID}' ORDER BY id")]  # noqa: S608


def event_searches(emulator: Any) -> int:
    calls = emulator.stats()["calls"]
    return sum(n for endpoint, n in calls.items() if endpoint.startswith("GET") and endpoint.endswith("/events"))


@pytest.fixture
def airflow_processes(mdsp_emulator: Any, tmp_path: Path) -> Iterator[tuple[Processes, Path]]:
    home = tmp_path / "home"
    home.mkdir()
    env = airflow_env(
        home,
        mdsp_emulator.url,
        DAGS,
        **QUICK_SCHEDULER,
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        MDSP_WATCH_POLL_SECONDS=str(POLL_SECONDS),
    )
    (tmp_path / "logs").mkdir()
    with airflow_running(home, env, tmp_path / "logs", "dag-processor", "scheduler", "triggerer") as procs:
        yield procs, home / "airflow.db"


def test_three_alarms_start_runs_that_see_each_alarm_once_also_after_a_triggerer_restart(
    airflow_processes: tuple[Processes, Path], mdsp_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    procs, db = airflow_processes
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_conn_json(mdsp_emulator.url))
    from airflow_provider_mdsp.hooks.mdsp import MdspHook

    client = MdspHook().client
    pump = mdsp_emulator.demo_assets()["Pump-A1-1"]

    def alarm(label: str) -> str:
        event = {"entityId": pump, "typeId": "demo.PumpAlarm", "variable": label, "temperature": 91.0}
        return str(client.events.create_event(event, sleep=time.sleep)["id"])

    # The watcher runs once the triggerer has polled (the DAG parsed, its trigger assigned).
    searches = event_searches(mdsp_emulator)
    wait_for("the watcher's first poll", lambda: event_searches(mdsp_emulator) > searches, procs)
    created = [alarm(f"alarm {i}") for i in range(3)]

    wait_for("runs for the three alarms", lambda: sorted(reported(db)) == sorted(created), procs)
    runs_before = len(wait_for("the first run", lambda: all_runs(db), procs))
    assert runs_before <= 3  # one per batch at most; Airflow may merge batches into one run

    procs.stop("triggerer")
    searches = event_searches(mdsp_emulator)
    procs.start("triggerer-2", "triggerer")
    # Two polls of the restarted watcher: each finds the three alarms again and reports none.
    wait_for("two polls after the restart", lambda: event_searches(mdsp_emulator) >= searches + 2, procs)
    assert sorted(reported(db)) == sorted(created)

    fourth = alarm("alarm 3")
    wait_for("a run for the fourth alarm", lambda: fourth in reported(db), procs)
    batches = reported(db)
    assert sorted(batches) == sorted([*created, fourth])  # every alarm exactly once
    runs = wait_for("the runs to finish", lambda: finished(all_runs(db), runs_before + 1), procs)
    assert set(runs) == {"success"}
    assert len(runs) <= 4


def finished(states: list[str], at_least: int) -> list[str] | None:
    done = len(states) >= at_least and all(s in ("success", "failed") for s in states)
    return states if done else None
