"""Sensor: wait for a TS Bulk import job to finish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_mdsp.sensors.base import MdspBaseJobSensor

if TYPE_CHECKING:
    from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger


class MdspBulkImportJobSensor(MdspBaseJobSensor):
    """Wait until a TS Bulk import job reaches SUCCESS; fail with the job's message on ERROR.

    The XCom value is ``{"job_id", "status", "message", "startTime", "lastModified"}``.

    :param job_id: the import job id (templated), e.g.
        ``"{{ ti.xcom_pull(task_ids='import', key='job_id') }}"``.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    @staticmethod
    def job_trigger() -> type[MdspBulkImportJobTrigger]:
        """Return the trigger class that checks the job's state."""
        from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

        return MdspBulkImportJobTrigger
