"""Trigger: wait in the triggerer for a TS Bulk import job to reach a final state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import bulk_job_failure, check_bulk_job


class MdspBulkImportJobTrigger(MdspJobTrigger):
    """Fire when an import job is SUCCESS (success event) or ERROR (error event with the job's message).

    Used by ``MdspBulkImportOperator`` and ``MdspBulkImportJobSensor`` in deferrable mode.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param job_id: the import job id.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline, or ``None``.
    :param sub_tenant: the subtenant the task impersonates, if any.
    """

    check_function = staticmethod(check_bulk_job)

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return the job's failure message when it ended in ERROR."""
        return bulk_job_failure(result)
