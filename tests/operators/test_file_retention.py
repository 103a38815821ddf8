"""Retention operators: the cut-off a run uses, and the operators against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.file_retention import (
    MdspDeleteFilesOperator,
    MdspEnsureFileDeleteRuleOperator,
    MdspListFileDeleteRulesOperator,
    retention_cutoff,
)

END = datetime(2026, 6, 2, tzinfo=timezone.utc)


def test_the_cut_off_counts_days_back_from_the_runs_interval_end():
    context = {"data_interval_end": END, "logical_date": END - timedelta(days=1)}
    assert retention_cutoff(30, None, context) == END - timedelta(days=30)
    assert retention_cutoff(0.5, None, {"logical_date": END}) == END - timedelta(hours=12)


def test_an_explicit_cut_off_wins_and_a_run_without_dates_counts_from_now():
    assert retention_cutoff(None, "2026-01-01T00:00:00Z", {"data_interval_end": END}) == datetime(
        2026, 1, 1, tzinfo=timezone.utc
    )
    before = datetime.now(timezone.utc) - timedelta(days=7)
    assert abs((retention_cutoff(7, None, {}) - before).total_seconds()) < 60


@pytest.mark.parametrize(("days", "before"), [(None, None), (30, "2026-01-01T00:00:00Z"), (0, None), ("x", None)])
def test_exactly_one_positive_cut_off_is_required(days, before):
    with pytest.raises(MdspConfigError) as caught:
        retention_cutoff(days, before, {"data_interval_end": END})
    assert caught.value.field in ("older_than_days", "updated_before")


@pytest.mark.integration
def test_the_operators_delete_files_and_keep_one_rule_against_the_emulator(emulator_connection):
    from airflow_provider_mdsp.client import ClientSettings, MdspClient
    from tests.helpers.emulator import EmulatorTokens

    client = MdspClient.create(ClientSettings(emulator_connection.url), EmulatorTokens(emulator_connection.token_url))
    motor = emulator_connection.demo_assets()["Motor-A1"]
    for path in ("retention-op/a.csv", "retention-op/deep/b.csv", "retention-op/c.log", "other/d.csv"):
        client.files.put_file(motor, path, b"x")
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()

    def delete(**kwargs):
        return MdspDeleteFilesOperator(
            task_id="d", entity_id=motor, folder="retention-op", name="*.csv", updated_before=future, **kwargs
        ).execute({})

    preview = delete(preview=True)
    assert (preview["matched"], preview["deleted"], preview["dry_run"]) == (2, 0, True)
    done = delete()
    assert (done["deleted"], sorted(done["paths"])) == (2, ["retention-op/a.csv", "retention-op/deep/b.csv"])
    assert delete()["matched"] == 0
    left = sorted(f["path"] + f["name"] for f in client.files.iter_files(motor))
    assert "retention-op/c.log" in left
    assert "other/d.csv" in left

    def ensure(**kwargs):
        return MdspEnsureFileDeleteRuleOperator(task_id="r", asset_id=motor, path="retention-op", **kwargs).execute({})

    assert ensure(delete_after_days=45)["action"] == "created"
    assert ensure(delete_after_days=45)["action"] == "unchanged"
    listed = MdspListFileDeleteRulesOperator(task_id="l", asset_id=motor).execute({})
    assert [(r["path"], r["deleteAfterDays"]) for r in listed] == [("/retention-op", 45)]
    with pytest.raises(MdspConfigError):
        ensure()
    assert ensure(present=False)["action"] == "deleted"
    assert ensure(present=False)["action"] == "absent"
