"""Trigger: wait in the triggerer for a TS Bulk import job to reach a final state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_mdsp.triggers.base import MdspPollingTrigger
from airflow_provider_mdsp.triggers.checks import bulk_job_failure, check_bulk_job


class MdspBulkImportJobTrigger(MdspPollingTrigger):
    """Fire when an import job is SUCCESS (success event) or ERROR (error event with the job's message).

    Used by ``MdspBulkImportOperator`` and ``MdspBulkImportJobSensor`` in deferrable mode.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param job_id: the import job id.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline, or ``None``.
    :param sub_tenant: the subtenant the task impersonates, if any.
    """

    check_function = staticmethod(check_bulk_job)

    def __init__(
        self,
        *,
        mdsp_conn_id: str,
        job_id: str,
        poll_interval: float,
        timeout_at: str | None = None,
        sub_tenant: str | None = None,
    ) -> None:
        super().__init__(
            mdsp_conn_id=mdsp_conn_id, poll_interval=poll_interval, timeout_at=timeout_at, sub_tenant=sub_tenant
        )
        self.job_id = job_id

    def check_kwargs(self) -> dict[str, Any]:
        """Return the arguments of :func:`~airflow_provider_mdsp.triggers.checks.check_bulk_job`."""
        return {"job_id": self.job_id}

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return the job's failure message when it ended in ERROR."""
        return bulk_job_failure(result)
