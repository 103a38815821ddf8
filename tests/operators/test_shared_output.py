"""The example DAGs' output location: a local path on a multi-host executor fails at once, saying what to set."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.operators.shared_output import (
    OUTPUT_DIR_TEMPLATE,
    multi_host_executors,
    output_dir_problem,
    require_shared_output,
)


@pytest.mark.parametrize(
    ("setting", "remote"),
    [
        ("LocalExecutor", []),
        ("CeleryExecutor", ["CeleryExecutor"]),
        ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", ["CeleryExecutor"]),
        ("LocalExecutor,KubernetesExecutor", ["KubernetesExecutor"]),
        ("edge:airflow.providers.edge3.executors.EdgeExecutor", ["EdgeExecutor"]),
    ],
)
def test_executors_that_may_run_tasks_elsewhere(setting, remote):
    assert multi_host_executors(setting) == remote


@pytest.mark.parametrize("output_dir", ["file:///tmp/mdsp-output", "/data/mdsp", "local:///x"])
def test_a_local_output_on_celery_is_refused_with_what_to_set(output_dir):
    problem = output_dir_problem(output_dir, "CeleryExecutor", declared_shared=False)
    assert problem is not None
    assert f"mdsp_output_dir is {output_dir!r}, a local path" in problem
    assert "CeleryExecutor runs tasks on many hosts" in problem
    assert "s3://aws_default@my-bucket/mdsp" in problem
    assert "mdsp_output_dir_shared to true" in problem


@pytest.mark.parametrize(
    ("output_dir", "executor", "shared"),
    [
        ("s3://aws_default@bucket/mdsp", "CeleryExecutor", False),
        ("file:///tmp/mdsp-output", "LocalExecutor", False),
        ("file:///mnt/nfs/mdsp", "CeleryExecutor", True),
    ],
)
def test_shared_storage_a_single_host_or_a_declared_mount_pass(output_dir, executor, shared):
    assert output_dir_problem(output_dir, executor, declared_shared=shared) is None


def test_the_task_check_reads_the_variable_and_the_executor(monkeypatch):
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # Airflow 3.1
        from airflow.exceptions import AirflowFailException

    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW_VAR_MDSP_OUTPUT_DIR", "file:///tmp/mdsp-output")
    with pytest.raises(AirflowFailException, match="mdsp_output_dir is 'file:///tmp/mdsp-output'"):
        require_shared_output({})
    monkeypatch.setenv("AIRFLOW_VAR_MDSP_OUTPUT_DIR_SHARED", "true")
    require_shared_output({})


def test_the_template_names_the_same_variable_and_default():
    assert OUTPUT_DIR_TEMPLATE == "{{ var.value.get('mdsp_output_dir', 'file:///tmp/mdsp-output') }}"
