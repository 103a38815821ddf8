"""The DAG of the wait-modes test, built from ``MDSP_WAIT_MODES`` so Airflow's DAG bundle can parse it.

``dag.test()`` (Airflow 3.3) serialises DAGs by parsing the DAGs folder, so the test drops a file
there that calls :func:`build_dag`. Without the variable no DAG is defined (other tests parse the
same folder).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

DAG_ID = "mdsp_wait_modes"
ENV = "MDSP_WAIT_MODES"
SOURCE = "wait-modes-test"
#: The DAG file the test drops into the DAGs folder.
#: (Airflow's safe mode parses only files that mention "airflow" and "dag".)
DAG_FILE = (
    "# An Airflow DAG of the provider's tests\n"
    "from tests.sensors.wait_modes_dag import build_dag\n\n"
    "dag = build_dag()\n"
)


def build_dag() -> Any:
    """Return the DAG for the settings in ``MDSP_WAIT_MODES``; only ``deferrable`` differs between runs."""
    if ENV not in os.environ:
        return None
    from airflow.sdk import DAG

    from airflow_provider_mdsp.operators.bulk import MdspBulkImportOperator
    from airflow_provider_mdsp.operators.files import MdspUploadFileOperator
    from airflow_provider_mdsp.sensors.events import MdspEventSensor

    spec = json.loads(os.environ[ENV])
    pump, deferrable = spec["pump"], spec["deferrable"]
    with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)) as dag:
        upload = MdspUploadFileOperator(
            task_id="upload", entity_id=pump, file_path="import/records.json", local_path=spec["records_file"]
        )
        load = MdspBulkImportOperator(
            task_id="import",
            entity_id=pump,
            aspect="PumpData",
            files=[{"filePath": "import/records.json", "from": spec["from"], "to": spec["to"]}],
            poll_interval=0.3,
            timeout=60,
            deferrable=deferrable,
        )
        wait = MdspEventSensor(
            task_id="wait_event",
            entity_id=pump,
            filter={"source": SOURCE},
            after=spec["after"],
            poke_interval=0.3,
            timeout=60,
            mode="poke",
            deferrable=deferrable,
        )
        upload >> load >> wait
    return dag
