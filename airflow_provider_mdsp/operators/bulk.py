"""Operator for TS Bulk: import time-series files from IoT File, and wait for the job.

Creating an import job is not idempotent (user-asks.md, ask 8: retried create-job calls started
duplicate syncs). So the job id is remembered before any waiting: in Airflow 3.3's task state store
(which outlives a try), and in XCom under ``job_id``. A retried task finds the id and waits for that
job again instead of submitting another one. Once the job ends, the id is forgotten, so clearing the
task later imports anew.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import DEFERRAL_GRACE, MdspBaseOperator, default_deferrable
from airflow_provider_mdsp.timeutil import deadline_after, monotonic, sleep

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

#: Key of the job id in the task state store (Airflow 3.3+) and in XCom.
STATE_KEY = "mdsp_bulk_import_job_id"
XCOM_KEY = "job_id"
#: Default longest wait for a job. Jobs import at most a day of data, up to 1 GB (§8).
DEFAULT_TIMEOUT = timedelta(hours=6)


def _seconds(value: float | timedelta, name: str) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise MdspConfigError(f"{name} must not be negative", field=name)
    return seconds


class MdspBulkImportOperator(MdspBaseOperator):
    """Import time-series files already stored in IoT File on an asset, and wait for the job.

    The files hold JSON records sorted by ``_time``; one asset/aspect pair and up to 100 files per
    job (§8). The job is submitted from the worker; then, with ``wait``, the operator polls in the
    worker or, when ``deferrable``, waits in the triggerer (``MdspBulkImportJobTrigger``). A job in
    ERROR fails the task with the job's message.

    Returns ``{"job_id", "status": "SUBMITTED"}`` without ``wait``, else
    ``{"job_id", "status", "message", "startTime", "lastModified"}``. The job id is also in XCom
    under the key ``job_id`` as soon as the job exists.

    :param entity_id: the asset id the files are stored on (templated).
    :param aspect: the aspect (property set) to import into (templated).
    :param files: ``[{"filePath", "from", "to"}]``, times as ISO strings or datetimes (templated).
    :param wait: wait for the job to finish.
    :param poll_interval: seconds between status checks.
    :param timeout: longest wait (seconds or timedelta); the job itself keeps running after it, and
        a retry of the task waits for the same job again.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "entity_id", "aspect", "files")
    template_fields_renderers = {"files": "json"}

    def __init__(
        self,
        *,
        entity_id: str,
        aspect: str,
        files: list[dict[str, Any]],
        wait: bool = True,
        poll_interval: float = 30,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.aspect = aspect
        self.files = files
        self.wait = wait
        self.poll_interval = _seconds(poll_interval, "poll_interval")
        self.timeout = _seconds(timeout, "timeout")
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)

    def execute(self, context: Context) -> dict[str, Any]:
        """Submit the job (or reattach to the one an earlier try submitted), then wait as configured."""
        job_id = known_job_id(context, self.task_id)
        reattached = job_id is not None
        if job_id is not None:
            self.log.info("Waiting again for import job %s, submitted by an earlier try", job_id)
        else:
            if not isinstance(self.files, list):
                raise MdspConfigError("files must be a list of {filePath, from, to} dicts", field="files")
            job = self.hook.client.bulk.create_import_job(self.entity_id, self.aspect, self.files)
            job_id = str(job["id"])
            self.log.info("Submitted import job %s for %s/%s", job_id, self.entity_id, self.aspect)
        remember_job_id(context, job_id)
        if not self.wait:
            forget_job_id(context)
            return {"job_id": job_id, "status": "SUBMITTED"}
        trigger = self.make_trigger(job_id)
        if self.deferrable:
            return self._defer(context, trigger, check_first=reattached)
        return self._poll(context, trigger)

    def make_trigger(self, job_id: str, timeout_at: str | None = None) -> MdspBulkImportJobTrigger:
        """Return the trigger checking the job; the worker's polling uses its check too."""
        from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

        return MdspBulkImportJobTrigger(
            mdsp_conn_id=self.mdsp_conn_id, job_id=job_id, poll_interval=self.poll_interval, timeout_at=timeout_at
        )

    def _poll(self, context: Context, trigger: MdspBulkImportJobTrigger) -> dict[str, Any]:
        deadline = monotonic() + self.timeout
        while True:
            result = trigger.check_once(self.hook)
            if result is not None:
                return self._finish(context, trigger.outcome(result))
            remaining = deadline - monotonic()
            if remaining <= 0:
                return self._finish(context, {"status": "timeout", "message": self._timeout_message(trigger.job_id)})
            sleep(min(self.poll_interval, remaining))

    def _defer(self, context: Context, trigger: MdspBulkImportJobTrigger, *, check_first: bool) -> dict[str, Any]:
        if check_first:
            result = trigger.check_once(self.hook)
            if result is not None:
                return self._finish(context, trigger.outcome(result))
        deferred = self.make_trigger(trigger.job_id, deadline_after(self.timeout))
        self.log.info("Deferring: waiting for import job %s in the triggerer", trigger.job_id)
        self.defer(
            trigger=deferred,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: the job's summary, or its failure or the timeout as an error."""
        return self._finish(context, event)

    def _finish(self, context: Context, event: Mapping[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_mdsp.exceptions import MdspWaitTimeoutError
        from airflow_provider_mdsp.triggers.base import SUCCESS, result_from_event

        if isinstance(event, Mapping) and (event.get("status") == SUCCESS or event.get("job_failed")):
            forget_job_id(context)  # the job ended: a later run imports anew
        # A timeout or a failed status check keeps the id: the job may still be running, and a
        # retry of the task waits for it instead of importing the same files twice.
        return result_from_event(event, on_timeout=MdspWaitTimeoutError)

    def _timeout_message(self, job_id: str) -> str:
        return (
            f"Import job {job_id} did not finish within {self.timeout:.0f} s; it keeps running, and a retry of "
            "this task waits for the same job"
        )


def known_job_id(context: Mapping[str, Any], task_id: str) -> str | None:
    """Return the job id an earlier try of this task instance submitted, if it is remembered.

    :param context: the task context.
    :param task_id: this task's id, for the XCom fallback before Airflow 3.3.
    """
    store = context.get("task_state_store")
    if store is not None:
        value = store.get(STATE_KEY)
        return str(value) if value else None
    ti = context.get("ti")
    if ti is None:
        return None
    # Before 3.3: XCom of this task. Airflow clears it when a new try starts, so this finds the id
    # only when the same try resumes; retries then submit a new job (documented limitation).
    value = ti.xcom_pull(task_ids=task_id, key=XCOM_KEY)
    return str(value) if value else None


def remember_job_id(context: Mapping[str, Any], job_id: str) -> None:
    """Store the job id where a retry finds it, before any waiting (task state store and XCom)."""
    store = context.get("task_state_store")
    if store is not None:
        store.set(STATE_KEY, job_id)
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=XCOM_KEY, value=job_id)


def forget_job_id(context: Mapping[str, Any]) -> None:
    """Drop the remembered job id once the job ended, so a later clear-and-rerun imports again."""
    store = context.get("task_state_store")
    if store is not None:
        store.delete(STATE_KEY)
