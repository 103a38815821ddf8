"""Retention clean-up through real Airflow (``dag.test()``) against an emulator whose clock moved 40 days.

The DAG ``mdsp_file_retention`` deletes two pumps' old CSV exports and ensures a delete rule on
each pump's ``logs`` folder. Run twice for the same day, the second run deletes nothing and
creates no rule.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tests.integration.conftest import emulator_conn_json, task_states, xcom_values

pytestmark = [pytest.mark.dag, pytest.mark.integration]

DAY_S = 86_400
OLD_EXPORTS = ("exports/a.csv", "exports/2025/b.csv", "exports/notes.txt")


@pytest.fixture(scope="module")
def own_emulator() -> Any:
    """An emulator of this module only: its clock is moved 40 days ahead."""
    from airflow_provider_mdsp.emulator import run_emulator

    with run_emulator() as handle:
        yield handle


def client_of(emulator: Any) -> Any:
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from tests.helpers.emulator import EmulatorTokens

    return MdspClient.create(ClientSettings(emulator.url), EmulatorTokens(emulator.token_url))


def stored(emulator: Any, asset: str) -> list[str]:
    """The asset's files under ``exports/`` (the demo tenant has other files)."""
    paths = (f["path"] + f["name"] for f in client_of(emulator).files.iter_files(asset))
    return sorted(p for p in paths if p.startswith("exports/"))


def test_old_exports_are_deleted_once_and_the_log_rule_is_created_once(airflow_dags, own_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MDSP_DEFAULT", emulator_conn_json(own_emulator.url))
    pumps = [own_emulator.demo_assets()[name] for name in ("Pump-A1-1", "Pump-A1-2")]
    client = client_of(own_emulator)
    for pump in pumps:
        for path in OLD_EXPORTS:
            client.files.put_file(pump, path, b"old")
    emulator_now = own_emulator.advance_clock(40 * DAY_S)["now"]
    client = client_of(own_emulator)  # a token of the emulator's new time
    for pump in pumps:
        client.files.put_file(pump, "exports/new.csv", b"new")
    day = datetime.fromisoformat(emulator_now.replace("Z", "+00:00")).replace(minute=0, second=0, microsecond=0)
    assert day > datetime.now(timezone.utc)

    first = airflow_dags.run("mdsp_file_retention.py", "mdsp_file_retention", logical_date=day)
    assert str(first.state) == "success", task_states(first)
    cleaned = xcom_values(first, "delete_old_exports")
    assert [(c["entityId"], c["deleted"], sorted(c["paths"])) for c in cleaned] == [
        (pump, 2, ["exports/2025/b.csv", "exports/a.csv"]) for pump in pumps
    ]
    for pump in pumps:
        assert stored(own_emulator, pump) == ["exports/new.csv", "exports/notes.txt"]
    ensured = xcom_values(first, "keep_logs_90_days")
    assert [(r["assetId"], r["path"], r["deleteAfterDays"], r["action"]) for r in ensured] == [
        (pump, "/logs", 90, "created") for pump in pumps
    ]
    (listed,) = xcom_values(first, "list_rules")
    assert sorted(r["assetId"] for r in listed) == sorted(pumps)

    second = airflow_dags.run("mdsp_file_retention.py", "mdsp_file_retention", logical_date=day)
    assert str(second.state) == "success", task_states(second)
    assert [(c["matched"], c["deleted"]) for c in xcom_values(second, "delete_old_exports")] == [(0, 0), (0, 0)]
    assert [r["action"] for r in xcom_values(second, "keep_logs_90_days")] == ["unchanged", "unchanged"]
    assert len(client_of(own_emulator).file_rules.list_rules()) == 2
    for pump in pumps:
        assert stored(own_emulator, pump) == ["exports/new.csv", "exports/notes.txt"]
