"""Trigger: wait in the triggerer for a TS Bulk import job to reach a final state."""

from __future__ import annotations

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import bulk_job_failure, check_bulk_job


class MdspBulkImportJobTrigger(MdspJobTrigger):
    """Fire when an import job is SUCCESS (success event) or ERROR (error event with the job's message).

    Used by ``MdspBulkImportOperator`` and ``MdspBulkImportJobSensor`` in deferrable mode.
    Its arguments are those of :class:`~airflow_provider_mdsp.triggers.base.MdspJobTrigger`.
    """

    check_function = staticmethod(check_bulk_job)
    failure_function = staticmethod(bulk_job_failure)
