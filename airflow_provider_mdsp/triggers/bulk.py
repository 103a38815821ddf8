"""Trigger: wait in the triggerer for a TS Bulk import job to reach a final state."""

from __future__ import annotations

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import bulk_job_failure, check_bulk_job


class MdspBulkImportJobTrigger(MdspJobTrigger):
    """Fire when an import job is SUCCESS (success event) or ERROR (error event with the job's message).

    Used by ``MdspBulkImportOperator`` and ``MdspBulkImportJobSensor`` in deferrable mode.

    :param job_id: the import job id.
    :param common: ``mdsp_conn_id``, ``poll_interval``, ``timeout_at``, ``sub_tenant`` (see
        :class:`~airflow_provider_mdsp.triggers.base.MdspPollingTrigger`).
    """

    check_function = staticmethod(check_bulk_job)
    failure_function = staticmethod(bulk_job_failure)
