"""Retention clean-up of IoT files: delete old exports now, and keep a daily rule on the logs folder.

``mdsp_file_retention`` deletes the CSV exports of two pumps last updated more than 30 days before
the run (one mapped task per pump), makes sure the service deletes each pump's ``logs`` files 90
days after their last update, and lists the rules. Run twice by
``tests/operators/test_file_retention_dag.py`` against the emulator: the second run deletes and
creates nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_mdsp.operators.file_retention import (
    MdspDeleteFilesOperator,
    MdspEnsureFileDeleteRuleOperator,
    MdspListFileDeleteRulesOperator,
)

PUMPS = [hashlib.md5(f"demo/{name}".encode(), usedforsecurity=False).hexdigest() for name in ("Pump-A1-1", "Pump-A1-2")]

with DAG(dag_id="mdsp_file_retention", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False) as dag:
    clean = MdspDeleteFilesOperator.partial(
        task_id="delete_old_exports", folder="exports", name="*.csv", older_than_days=30
    ).expand(entity_id=PUMPS)
    rules = MdspEnsureFileDeleteRuleOperator.partial(
        task_id="keep_logs_90_days", path="logs", delete_after_days=90
    ).expand(asset_id=PUMPS)
    listed = MdspListFileDeleteRulesOperator(task_id="list_rules")
    rules >> listed
