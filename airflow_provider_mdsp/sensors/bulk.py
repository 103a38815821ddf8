"""Sensor: wait for a TS Bulk import job to finish."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.sensors.base import MdspBaseSensor

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger


class MdspBulkImportJobSensor(MdspBaseSensor):
    """Wait until a TS Bulk import job reaches SUCCESS; fail with the job's message on ERROR.

    The XCom value is ``{"job_id", "status", "message", "startTime", "lastModified"}``.

    :param job_id: the import job id (templated), e.g.
        ``"{{ ti.xcom_pull(task_ids='import', key='job_id') }}"``.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseSensor.template_fields, "job_id")

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def make_trigger(self, context: Context, timeout_at: str | None = None) -> MdspBulkImportJobTrigger:
        """Return the trigger checking the job's state."""
        from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

        return MdspBulkImportJobTrigger(
            mdsp_conn_id=self.mdsp_conn_id,
            job_id=str(self.job_id),
            poll_interval=self.poke_interval,
            timeout_at=timeout_at,
            sub_tenant=self.sub_tenant or None,
        )
