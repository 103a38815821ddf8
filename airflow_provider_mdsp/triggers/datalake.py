"""Trigger: wait in the triggerer for a Data Lake time-series import job to end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_mdsp.triggers.base import MdspPollingTrigger
from airflow_provider_mdsp.triggers.checks import check_lake_import_job, lake_job_failure


class MdspDataLakeImportJobTrigger(MdspPollingTrigger):
    """Fire when an import job is SUCCESS (success event) or FAILED (error event with its message).

    Used by ``MdspDataLakeExportOperator`` and ``MdspDataLakeImportJobSensor`` in deferrable mode.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param job_id: the import job id.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline, or ``None``.
    :param sub_tenant: the subtenant the connection impersonates, if any.
    """

    check_function = staticmethod(check_lake_import_job)

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
        """Return the arguments of :func:`~airflow_provider_mdsp.triggers.checks.check_lake_import_job`."""
        return {"job_id": self.job_id}

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Return the job's failure message when it ended in FAILED."""
        return lake_job_failure(result)
