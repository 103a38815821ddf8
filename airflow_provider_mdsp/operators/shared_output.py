"""Where the example DAGs write their files, and the check that it is shared storage on a cluster.

The example DAGs pass files between tasks: one task writes, the next reads. On a single host
(``airflow dags test``, ``airflow standalone``, the LocalExecutor) a local directory works. With
an executor that runs tasks on many hosts (Celery, Kubernetes, Edge …) the next task may run on
another host, where the file is missing. Retries cannot help, and the failure appears only in
the downstream task, on deployment. So every task of the example DAGs runs
:func:`require_shared_output` first (``pre_execute``): with a local ``file://`` output location on
a multi-host executor it fails at once, saying what to set.

One setting: the Airflow Variable ``mdsp_output_dir`` (a URI, default ``file:///tmp/mdsp-output``).
A local path that every worker mounts (NFS, a ReadWriteMany volume) is declared shared with the
Variable ``mdsp_output_dir_shared`` set to ``true``.
"""

from __future__ import annotations

from typing import Any

#: The Airflow Variable holding the example DAGs' output location (a URI).
OUTPUT_DIR_VARIABLE = "mdsp_output_dir"
#: The Airflow Variable declaring that a local ``mdsp_output_dir`` is a mount every worker shares.
SHARED_FLAG_VARIABLE = "mdsp_output_dir_shared"
#: The output location when the Variable is not set: fine on one host only.
DEFAULT_OUTPUT_DIR = "file:///tmp/mdsp-output"
#: The same setting as a template, for ``output_path`` arguments.
OUTPUT_DIR_TEMPLATE = "{{ var.value.get('" + OUTPUT_DIR_VARIABLE + "', '" + DEFAULT_OUTPUT_DIR + "') }}"

#: Executors that run every task on the scheduler's host.
SINGLE_HOST_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor", "DebugExecutor"})
_LOCAL_SCHEMES = ("", "file", "local")


def multi_host_executors(executor_setting: str) -> list[str]:
    """Return the executors of an ``[core] executor`` setting that may run tasks on other hosts.

    :param executor_setting: e.g. ``CeleryExecutor``, ``LocalExecutor,my.module.EdgeExecutor`` or
        ``alias:path.to.Executor``.
    """
    names = []
    for entry in executor_setting.split(","):
        name = entry.strip().rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        if name and name not in SINGLE_HOST_EXECUTORS:
            names.append(name)
    return names


def output_dir_problem(output_dir: str, executor_setting: str, declared_shared: bool) -> str | None:
    """Return why ``output_dir`` cannot carry files between tasks under these executors, or ``None``.

    :param output_dir: the value of ``mdsp_output_dir``.
    :param executor_setting: Airflow's ``[core] executor``.
    :param declared_shared: whether ``mdsp_output_dir_shared`` says the local path is a shared mount.
    """
    scheme = output_dir.split("://", 1)[0].lower() if "://" in output_dir else ""
    remote = multi_host_executors(executor_setting)
    if scheme not in _LOCAL_SCHEMES or declared_shared or not remote:
        return None
    return (
        f"The Airflow Variable {OUTPUT_DIR_VARIABLE} is {output_dir!r}, a local path, but the {remote[0]} runs "
        "tasks on many hosts: a file one task writes there is missing for the next. Set "
        f"{OUTPUT_DIR_VARIABLE} to shared storage, e.g. 's3://aws_default@my-bucket/mdsp' (docs/cluster.md); if "
        f"the path is a mount every worker shares, set the Variable {SHARED_FLAG_VARIABLE} to true."
    )


def require_shared_output(context: Any) -> None:
    """Fail the task at once when the output location cannot work on this executor (``pre_execute``).

    :param context: the task's context (unused: the setting and the executor are global).
    :raises AirflowFailException: a local output location on a multi-host executor; not retried,
        since a retry cannot help.
    """
    from airflow.sdk import Variable

    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # Airflow 3.1
        from airflow.exceptions import AirflowFailException  # type: ignore[no-redef]

    output_dir = str(Variable.get(OUTPUT_DIR_VARIABLE, default=DEFAULT_OUTPUT_DIR))
    declared = str(Variable.get(SHARED_FLAG_VARIABLE, default="false")).strip().lower() in ("true", "1", "yes")
    problem = output_dir_problem(output_dir, _executor_setting(), declared)
    if problem:
        raise AirflowFailException(problem)


def _executor_setting() -> str:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1
        from airflow.configuration import conf
    return str(conf.get("core", "executor", fallback="LocalExecutor") or "LocalExecutor")
