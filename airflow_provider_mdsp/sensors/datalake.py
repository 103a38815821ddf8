"""Sensor: wait for a Data Lake time-series import job to end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_mdsp.sensors.base import MdspBaseJobSensor

if TYPE_CHECKING:
    from airflow_provider_mdsp.triggers.datalake import MdspDataLakeImportJobTrigger


class MdspDataLakeImportJobSensor(MdspBaseJobSensor):
    """Wait until a Data Lake import job reaches SUCCESS; fail with the job's message on FAILED.

    The XCom value is ``{"job_id", "name", "status", "destinationPath", "fileCount", "message"}``.

    :param job_id: the import job id (templated), e.g. ``"{{ ti.xcom_pull(task_ids='export')['job_id'] }}"``.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    @staticmethod
    def job_trigger() -> type[MdspDataLakeImportJobTrigger]:
        """Return the trigger class that checks the job's state."""
        from airflow_provider_mdsp.triggers.datalake import MdspDataLakeImportJobTrigger

        return MdspDataLakeImportJobTrigger
