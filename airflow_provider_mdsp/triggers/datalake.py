"""Trigger: wait in the triggerer for a Data Lake time-series import job to end."""

from __future__ import annotations

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import check_lake_import_job, lake_job_failure


class MdspDataLakeImportJobTrigger(MdspJobTrigger):
    """Fire when an import job is SUCCESS (success event) or FAILED (error event with its message).

    Used by ``MdspDataLakeExportOperator`` and ``MdspDataLakeImportJobSensor`` in deferrable mode.
    Its arguments are those of :class:`~airflow_provider_mdsp.triggers.base.MdspJobTrigger`.
    """

    check_function = staticmethod(check_lake_import_job)
    failure_function = staticmethod(lake_job_failure)
