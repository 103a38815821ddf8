"""The emulator's config options: ``job_step_s`` paces every job kind, and its old name ``bulk_step_s`` still works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_mdsp.emulator.cli import build_parser, config_from_args
from airflow_provider_mdsp.emulator.clock import EmulatorClock
from airflow_provider_mdsp.emulator.config import ConfigError, EmulatorConfig, demo_config, load_config
from airflow_provider_mdsp.emulator.state import TenantBackend

STEP_S = 7.5
TENANT = {"name": "acme"}


def _from_file(tmp_path: Path, name: str) -> EmulatorConfig:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({name: STEP_S, "tenants": [TENANT]}), encoding="utf-8")
    return load_config(str(path))


def _from_overrides(tmp_path: Path, name: str) -> EmulatorConfig:
    return load_config({"tenants": [TENANT]}).with_overrides(**{name: STEP_S})


def _from_command_line(tmp_path: Path, name: str) -> EmulatorConfig:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({"tenants": [TENANT]}), encoding="utf-8")
    flag = {"job_step_s": "--job-step", "bulk_step_s": "--bulk-step"}[name]
    return config_from_args(build_parser().parse_args(["--config", str(path), flag, str(STEP_S)]))


def _job_steps(config: EmulatorConfig) -> dict[str, float]:
    """Seconds per state of each job kind of a tenant built from ``config``."""
    backend = TenantBackend("acme", config, EmulatorClock())
    return {
        "TS Bulk import": backend.bulk.step_s,
        "Data Lake import": backend.lake_jobs.step_s,
        "event jobs": backend.event_jobs.step_s,
    }


@pytest.mark.parametrize("source", [_from_file, _from_overrides, _from_command_line])
@pytest.mark.parametrize("name", ["job_step_s", "bulk_step_s"])
def test_job_step_paces_every_job_kind_under_its_new_and_its_old_name(tmp_path, source, name):
    config = source(tmp_path, name)
    assert config.job_step_s == STEP_S
    assert _job_steps(config) == {"TS Bulk import": STEP_S, "Data Lake import": STEP_S, "event jobs": STEP_S}


def test_the_default_is_one_second_per_state():
    assert set(_job_steps(load_config({"tenants": [TENANT]})).values()) == {1.0}


BOTH = {"job_step_s": 2.0, "bulk_step_s": 3.0}


@pytest.mark.parametrize(
    "build",
    [
        lambda: load_config({"tenants": [TENANT], **BOTH}),
        lambda: demo_config().with_overrides(**BOTH),
    ],
    ids=["config file", "with_overrides"],
)
def test_giving_both_names_is_refused_naming_both(build: Any):
    with pytest.raises(ConfigError, match=r"'bulk_step_s' is the old name of 'job_step_s'; give only 'job_step_s'"):
        build()


def test_giving_both_flags_is_refused_naming_both(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--job-step", "2", "--bulk-step", "3"])
    assert exit_info.value.code == 2
    assert "argument --bulk-step: not allowed with argument --job-step" in capsys.readouterr().err
