"""IoT File v4 delete rules in the emulator: the published limits, one rule per hierarchy, daily runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from .conftest import session, token

pytestmark = pytest.mark.integration

RULES = "/api/iotfile/v4/fileDeleteRules"
FILES = "/api/iotfile/v3/files"
DAY_S = 86_400


@pytest.fixture
def fresh(emu) -> Iterator[requests.Session]:
    """A session on an emulator reset to its demo state and wall time (rules fill the tenant's limit)."""
    emu.reset()
    yield session(token(emu))
    emu.reset()


def create(emu, api, *rules: dict) -> requests.Response:
    return api.post(f"{emu.url}{RULES}", json=list(rules), timeout=10)


def rule(asset: str, path: str = "/logs", days: int = 30) -> dict:
    return {"assetId": asset, "path": path, "deleteAfterDays": days}


def test_a_created_rule_is_answered_as_in_the_samples_and_listed_active(emu, fresh, ids):
    made = create(emu, fresh, rule(ids["Pump-A1-2"], "/folder1/folder2", 30))
    assert made.status_code == 201
    (body,) = made.json()
    assert set(body) >= {"id", "assetId", "path", "deleteAfterDays", "created"}
    assert (body["path"], body["deleteAfterDays"]) == ("/folder1/folder2", 30)
    assert len(body["created"]) == len("2023-03-15 12:29:31.0")
    listed = fresh.get(f"{emu.url}{RULES}/", timeout=10).json()
    assert [(r["id"], r["state"]) for r in listed] == [(body["id"], "ACTIVE")]


@pytest.mark.parametrize("days", [29, 366, 30.5, "30", None, True])
def test_delete_after_days_outside_30_to_365_is_refused(emu, fresh, ids, days):
    refused = create(emu, fresh, rule(ids["Pump-A1-2"], days=days))  # type: ignore[arg-type]
    assert refused.status_code == 400
    assert "deleteAfterDays" in refused.json()["message"]


@pytest.mark.parametrize("days", [30, 365])
def test_the_bounds_themselves_are_accepted(emu, fresh, ids, days):
    assert create(emu, fresh, rule(ids["Pump-A1-2"], days=days)).status_code == 201


def test_at_most_50_rules_per_tenant(emu, fresh, ids):
    asset = ids["Pump-A1-2"]
    assert create(emu, fresh, *[rule(asset, f"/f{i}") for i in range(49)]).status_code == 201
    too_many = create(emu, fresh, rule(asset, "/f49"), rule(asset, "/f50"))
    assert too_many.status_code == 400
    assert "50" in too_many.json()["message"]
    assert create(emu, fresh, rule(asset, "/f49")).status_code == 201
    assert len(fresh.get(f"{emu.url}{RULES}/", timeout=10).json()) == 50


def test_one_rule_per_folder_hierarchy_of_an_asset(emu, fresh, ids):
    pump, motor = ids["Pump-A1-2"], ids["Motor-A1"]
    assert create(emu, fresh, rule(pump, "/logs")).status_code == 201
    for path in ("/logs", "logs/", "/logs/2024", "/"):
        assert create(emu, fresh, rule(pump, path)).status_code == 409, path
    assert create(emu, fresh, rule(pump, "/logsold")).status_code == 201
    assert create(emu, fresh, rule(motor, "/logs")).status_code == 201  # another asset


def test_a_create_is_all_or_nothing(emu, fresh, ids):
    pump = ids["Pump-A1-2"]
    assert create(emu, fresh, rule(pump, "/a"), rule(pump, "/a/b")).status_code == 409
    assert create(emu, fresh, rule(pump, "/c"), rule(pump, "/d", days=10)).status_code == 400
    assert fresh.get(f"{emu.url}{RULES}/", timeout=10).json() == []


def test_deleting_a_rule_frees_its_folder_and_an_unknown_rule_is_404(emu, fresh, ids):
    (made,) = create(emu, fresh, rule(ids["Pump-A1-2"])).json()
    assert fresh.delete(f"{emu.url}{RULES}/{made['id']}", timeout=10).status_code == 204
    assert fresh.delete(f"{emu.url}{RULES}/{made['id']}", timeout=10).status_code == 404
    assert create(emu, fresh, rule(ids["Pump-A1-2"])).status_code == 201


def test_rules_need_the_delete_scope_to_be_created(emu, fresh, ids):
    from .conftest import READER

    reader = session(token(emu, READER))
    assert reader.post(f"{emu.url}{RULES}", json=[rule(ids["Pump-A1-2"])], timeout=10).status_code == 403
    assert reader.get(f"{emu.url}{RULES}/", timeout=10).status_code == 200


def names(emu, api, asset: str) -> list[str]:
    return sorted(f["path"] + f["name"] for f in api.get(f"{emu.url}{FILES}/{asset}", timeout=10).json())


def later(emu, seconds: float) -> requests.Session:
    """Move the emulator's clock and return a session with a token valid at the new time."""
    emu.advance_clock(seconds)
    return session(token(emu))


def test_a_rule_runs_from_the_next_midnight_on_files_under_its_folder_older_than_its_days(emu, fresh, ids):
    pump = ids["Pump-A1-2"]
    for path in ("logs/old.csv", "logs/2024/old.csv", "keep/old.csv"):
        assert fresh.put(f"{emu.url}{FILES}/{pump}/{path}", data=b"x", timeout=10).status_code == 201
    api = later(emu, 31 * DAY_S)
    assert api.put(f"{emu.url}{FILES}/{pump}/logs/new.csv", data=b"y", timeout=10).status_code == 201
    assert create(emu, api, rule(pump, "/logs", 30)).status_code == 201
    assert names(emu, api, pump) == ["keep/old.csv", "logs/2024/old.csv", "logs/new.csv", "logs/old.csv"]
    api = later(emu, DAY_S)  # past the next midnight (UTC): the rule's first run
    assert names(emu, api, pump) == ["keep/old.csv", "logs/new.csv"]
    api = later(emu, 28 * DAY_S)  # new.csv is less than 30 days old at every midnight so far
    assert "logs/new.csv" in names(emu, api, pump)
    api = later(emu, 3 * DAY_S)
    assert names(emu, api, pump) == ["keep/old.csv"]
