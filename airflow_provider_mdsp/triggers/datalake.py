"""Trigger: wait in the triggerer for a Data Lake time-series import job to end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import check_lake_import_job, lake_job_failure


class MdspDataLakeImportJobTrigger(MdspJobTrigger):
    """Fire when an import job is SUCCESS (success event) or FAILED (error event with its message).

    Used by ``MdspDataLakeExportOperator`` and ``MdspDataLakeImportJobSensor`` in deferrable mode.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param job_id: the import job id.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline, or ``None``.
    :param sub_tenant: the subtenant the connection impersonates, if any.
    """

    check_function = staticmethod(check_lake_import_job)

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return the job's failure message when it ended in FAILED."""
        return lake_job_failure(result)
