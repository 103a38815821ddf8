"""The example DAGs parse cleanly, cheaply and without I/O, are documented, and get real data intervals.

Running them end to end against the emulator is ``scripts/run_example_dags.py`` (a CI step of its
own). Here no database and no server are needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"
DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))

#: Modules a DAG file must not pull in at parse time: the HTTP stack, the hook and client (imported
#: only when a task runs) and pyarrow. The DAG processor parses every file every 30 s.
HEAVY_MODULES = ("requests", "pyarrow", "airflow_provider_mdsp.hooks.mdsp", "airflow_provider_mdsp.client")

# Parses the example DAGs in a fresh interpreter with an audit hook recording every socket
# connection, subprocess and file opened for writing, then reports as JSON.
_PARSE_PROBE = r"""
import json, sys, time
sys.dont_write_bytecode = True
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1
    from airflow.models.dagbag import DagBag

events = []
watching = False

def audit(event, args):
    if not watching:
        return
    if event in ("socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.system"):
        events.append(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}")
    elif event == "open" and isinstance(args[1], str) and any(m in args[1] for m in "wax+"):
        events.append(f"open for writing {args[0]!r}")

sys.addaudithook(audit)
watching = True
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - start
watching = False
print(json.dumps({
    "dags": {dag_id: dag.fileloc for dag_id, dag in bag.dags.items()},
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "io": events,
    "seconds": {s.file: s.duration.total_seconds() for s in bag.dagbag_stats},
    "total_seconds": elapsed,
    "heavy": [m for m in sys.argv[2:] if m in sys.modules],
}))
"""


@pytest.fixture(scope="module")
def parse_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Parse ``example_dags/`` once in a clean interpreter and return what happened."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("airflow-home"))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    cmd = [sys.executable, "-c", _PARSE_PROBE, str(DAGS_FOLDER), *HEAVY_MODULES]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture(scope="module")
def dags() -> dict[str, Any]:
    """The example DAGs, parsed in this process."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors
    return dict(bag.dags)


def test_there_are_example_dags() -> None:
    assert len(DAG_FILES) >= 4


def test_every_file_parses_into_the_dag_named_like_it(parse_report: dict[str, Any]) -> None:
    assert parse_report["errors"] == {}
    found = {dag_id: Path(path).name for dag_id, path in parse_report["dags"].items()}
    assert found == {p.stem: p.name for p in DAG_FILES}


def test_parsing_does_no_io(parse_report: dict[str, Any]) -> None:
    assert parse_report["io"] == []


def test_parsing_imports_no_http_stack_hook_or_pyarrow(parse_report: dict[str, Any]) -> None:
    assert parse_report["heavy"] == []


def test_each_file_parses_far_within_airflows_import_timeout(parse_report: dict[str, Any]) -> None:
    # [core] dagbag_import_timeout is 30 s; the files take milliseconds once Airflow is imported.
    # The bound is loose on purpose (shared CI machines): it catches work at parse time, not jitter.
    slow = {name: s for name, s in parse_report["seconds"].items() if s > 3.0}
    assert slow == {}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_is_tagged_documented_and_uses_the_default_connection(path: Path, dags: dict[str, Any]) -> None:
    dag = dags[path.stem]
    assert "mdsp" in dag.tags
    assert "example" in dag.tags
    assert len(dag.doc_md or "") > 200
    assert dag.description
    for task in dag.tasks:
        if hasattr(task, "mdsp_conn_id"):
            assert task.mdsp_conn_id == "mdsp_default", task.task_id


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_scheduled_and_manual_runs_get_a_non_empty_data_interval(path: Path, dags: dict[str, Any]) -> None:
    dag = dags[path.stem]
    if type(dag.timetable).__name__ == "AssetTriggeredTimetable":
        pytest.skip("scheduled on an asset: a run's work comes from its triggering asset events")
    run_after = datetime(2026, 5, 13, 7, 30, tzinfo=timezone.utc)
    manual = dag.timetable.infer_manual_data_interval(run_after=run_after)
    assert manual.start < manual.end <= run_after
    first = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=_restriction(dag))
    assert first is not None
    assert first.data_interval.start < first.data_interval.end


def _restriction(dag: Any) -> Any:
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)


def test_runner_picks_a_day_inside_the_emulators_data() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from run_example_dags import default_logical_date, example_dag_ids
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    now = datetime(2026, 5, 13, 0, 10, tzinfo=timezone.utc)
    logical = default_logical_date(now)
    # The daily interval before the logical date ends at least a day ago (complete, and old enough
    # for TS Bulk imports) and starts within the emulator's 31 generated days.
    assert logical == datetime(2026, 5, 12, tzinfo=timezone.utc)
    assert now - (logical - timedelta(days=1)) < timedelta(days=31)
    assert sorted(example_dag_ids()) == [p.stem for p in DAG_FILES]


def _asset_names(condition: Any) -> set[str]:
    """Return the names of the assets in a schedule's condition (``AssetAll``/``AssetAny`` nest them)."""
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(c) for c in condition.objects))
    return {condition.name} if hasattr(condition, "uri") else set()


def _outlet_names(dag: Any) -> set[str]:
    return {outlet.name for task in dag.tasks for outlet in task.outlets if hasattr(outlet, "uri")}


def test_each_dag_scheduled_on_another_example_dags_output_runs_after_it(dags: dict[str, Any]) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from run_example_dags import CONSUMERS, example_dag_ids
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    produced = {name: dag_id for dag_id, dag in dags.items() for name in _outlet_names(dag)}
    consumers = {}
    for dag_id, dag in dags.items():
        if type(dag.timetable).__name__ == "AssetTriggeredTimetable":
            for name in _asset_names(dag.timetable.asset_condition) & set(produced):
                consumers[dag_id] = produced[name]
    assert consumers == CONSUMERS
    order = example_dag_ids()
    assert all(order.index(producer) < order.index(consumer) for consumer, producer in consumers.items())


def _gets_a_map_index(task: Any) -> bool:
    """Whether the task runs once per mapped item: mapped itself or inside a mapped task group."""
    return type(task).__name__ == "MappedOperator" or task.get_closest_mapped_task_group() is not None


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_mapped_tasks_are_labelled_by_a_rendered_field_not_their_map_index(path: Path, dags: dict[str, Any]) -> None:
    import re

    dag = dags[path.stem]
    for task in filter(_gets_a_map_index, dag.tasks):
        template = task.map_index_template
        assert template, f"{task.task_id}: a mapped task needs a map_index_template (the UI shows its index otherwise)"
        assert "map_index" not in template.replace("map_index_template", ""), task.task_id
        names = re.findall(r"task\.(\w+)(?:\.(\w+))?", template)
        assert names, f"{task.task_id}: the label should name a value of the mapped task ({template})"
        for field, key in names:
            # Only template fields are rendered per mapped item; another attribute would show the
            # unresolved mapped argument.
            assert field in task.template_fields, (task.task_id, field)
            if field == "op_kwargs":
                assert key in task.op_kwargs, (task.task_id, key)


@pytest.mark.parametrize(
    ("interval", "day"),
    [
        (None, (datetime(2026, 5, 12, tzinfo=timezone.utc), datetime(2026, 5, 13, tzinfo=timezone.utc))),
        (
            (datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 5, 2, tzinfo=timezone.utc)),
            (datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 5, 2, tzinfo=timezone.utc)),
        ),
    ],
    ids=["manual run", "scheduled run"],
)
def test_daily_extraction_reads_a_whole_utc_day_also_on_a_manual_run(dags: dict[str, Any], interval, day) -> None:
    """Without a data interval the reads and the daily aggregate take the UTC day before the run, not the last 24 h."""
    from types import SimpleNamespace

    import jinja2

    dag = dags["mdsp_daily_pump_extraction"]
    context = {
        "data_interval_start": interval and interval[0],
        "data_interval_end": interval and interval[1],
        "dag_run": SimpleNamespace(run_after=datetime(2026, 5, 13, 7, 30, tzinfo=timezone.utc)),
        "macros": SimpleNamespace(timedelta=timedelta),
    }
    for task_id in ("read_timeseries", "daily_aggregates"):
        kwargs = dag.get_task(task_id).partial_kwargs
        window = [jinja2.Template(kwargs[k]).render(**context) for k in ("from_time", "to_time")]
        assert [datetime.fromisoformat(w) for w in window] == list(day), task_id


def test_the_bulk_import_waits_until_the_days_readings_are_old_enough_to_import(
    dags: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TS Bulk refuses records younger than 30 minutes: a run at midnight, as scheduled, must wait first."""
    from types import SimpleNamespace

    monkeypatch.setenv("AIRFLOW_VAR_MDSP_OUTPUT_DIR", tmp_path.as_uri())
    dag = dags["mdsp_files_and_bulk_import"]
    day = (datetime(2026, 5, 12, tzinfo=timezone.utc), datetime(2026, 5, 13, tzinfo=timezone.utc))
    context = {"data_interval_start": day[0], "data_interval_end": day[1], "dag": SimpleNamespace(dag_id=dag.dag_id)}
    prepared = dag.get_task("prepare_readings").python_callable(**context)
    importable = datetime.fromisoformat(prepared["importable_after"])
    newest = datetime.fromisoformat(prepared["last_time"].replace("Z", "+00:00"))
    assert importable - newest >= timedelta(minutes=30)
    assert importable <= day[1] + timedelta(minutes=30)  # a run long after the day does not wait
    wait = dag.get_task("wait_until_importable")
    assert wait.upstream_task_ids >= {"prepare_readings"}
    assert "wait_until_importable" in dag.get_task("bulk_import").upstream_task_ids
