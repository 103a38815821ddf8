"""Operator for TS Bulk: import time-series files from IoT File, and wait for the job.

Creating an import job is not idempotent (retried create-job calls started
duplicate syncs). So the job id is remembered before any waiting, where the next try finds it
(:class:`~airflow_provider_mdsp.operators.trystate.TryMemory`: Airflow 3.3's task state store, else
an Airflow Variable of the task instance), and in XCom under ``job_id``. A retried task finds the id
and waits for that job again instead of submitting another one. Once the job ends, the id is
forgotten, so clearing the task later imports anew.

A submission whose answer was lost (the job may exist, its id is unknown) is remembered too, by a
digest of the asset, aspect and files. The service cannot list import jobs, so that try and
every later one look for the job's effect instead of submitting again: records in every file's
range. The import counts as done once they appear; if none appear within ``timeout``, the memory
is dropped and the next try submits anew.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspError, MdspWaitTimeoutError
from airflow_provider_mdsp.operators.jobs import MdspJobOperator
from airflow_provider_mdsp.operators.trystate import TryMemory
from airflow_provider_mdsp.operators.waiting import SUCCESS, poll_until, result_from_event

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

#: Prefix of what the operator remembers across tries; the job id's state-store key is STATE_KEY.
MEMORY_PREFIX = "mdsp_bulk_import_"
#: Key of the job id in the task state store (Airflow 3.3+).
STATE_KEY = MEMORY_PREFIX + "job_id"
#: Key of the digest of a submission whose answer was lost.
PENDING_KEY = MEMORY_PREFIX + "pending"
XCOM_KEY = "job_id"


class MdspBulkImportOperator(MdspJobOperator):
    """Import time-series files already stored in IoT File on an asset, and wait for the job.

    The files hold JSON records sorted by ``_time``; one asset/aspect pair and up to 100 files per
    job. The job is submitted from the worker; then, with ``wait``, the operator polls in the
    worker or, when ``deferrable``, waits in the triggerer (``MdspBulkImportJobTrigger``). A job in
    ERROR fails the task with the job's message.

    Returns ``{"job_id", "status": "SUBMITTED"}`` without ``wait``, else
    ``{"job_id", "status", "message", "startTime", "lastModified"}``. The job id is also in XCom
    under the key ``job_id`` as soon as the job exists.

    :param entity_id: the asset id the files are stored on (templated).
    :param aspect: the aspect (property set) to import into (templated).
    :param files: ``[{"filePath", "from", "to"}]``, times as ISO strings or datetimes (templated).
    :param wait: wait for the job to finish (``poll_interval``, ``timeout`` and ``deferrable`` as
        :class:`~airflow_provider_mdsp.operators.jobs.MdspJobOperator` describes).
    """

    template_fields: tuple[str, ...] = (*MdspJobOperator.template_fields, "entity_id", "aspect", "files")
    template_fields_renderers = {"files": "json"}

    def __init__(
        self,
        *,
        entity_id: str,
        aspect: str,
        files: list[dict[str, Any]],
        wait: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.aspect = aspect
        self.files = files
        self.wait = wait

    def execute(self, context: Context) -> dict[str, Any]:
        """Submit the job (or reattach to the one an earlier try submitted), then wait as configured."""
        job_id = known_job_id(context, self.task_id)
        reattached = job_id is not None
        if job_id is not None:
            self.log.info("Waiting again for import job %s, submitted by an earlier try", job_id)
        else:
            if not isinstance(self.files, list):
                raise MdspConfigError("files must be a list of {filePath, from, to} dicts", field="files")
            job_id = self._submit(context)
            if job_id is None:
                return self._await_lost_import(context)
        remember_job_id(context, job_id)
        if not self.wait:
            forget_job_id(context)
            return {"job_id": job_id, "status": "SUBMITTED"}
        trigger = self.make_trigger(job_id)
        if self.deferrable:
            if reattached:
                result = trigger.check_once(self.hook)
                if result is not None:
                    return self._finish(context, trigger.outcome(result))
            self.defer_to_trigger(job_id)
        return self._finish(context, self.wait_in_worker(trigger))

    def _submit(self, context: Context) -> str | None:
        """Submit the job and return its id; ``None`` when this or an earlier try lost the answer."""
        from airflow_provider_mdsp.client.bulk import import_fingerprint
        from airflow_provider_mdsp.client.converge import is_ambiguous

        memory = TryMemory(context, MEMORY_PREFIX)
        digest = import_fingerprint(self.entity_id, self.aspect, self.files)
        if memory.get("pending") == digest:
            self.log.warning("An earlier try submitted this import and lost the answer; not submitting again")
            return None
        memory.set("pending", digest)
        try:
            job = self.hook.client.bulk.create_import_job(self.entity_id, self.aspect, self.files)
        except MdspError as exc:
            if is_ambiguous(exc):
                self.log.warning("Submitting the import job failed ambiguously (%s); the job may exist", exc)
                return None
            memory.delete("pending")  # certainly not submitted: a retry submits
            raise
        job_id = str(job["id"])
        memory.set("job_id", job_id)  # before dropping the pending digest: a crash between keeps one
        memory.delete("pending")
        self.log.info("Submitted import job %s for %s/%s", job_id, self.entity_id, self.aspect)
        return job_id

    def _await_lost_import(self, context: Context) -> dict[str, Any]:
        """Wait in the worker for the records of an import whose job id was lost, up to ``timeout``."""
        bulk_client = self.hook.client.bulk
        memory = TryMemory(context, MEMORY_PREFIX)
        arrived = poll_until(
            lambda: bulk_client.imported(self.entity_id, self.aspect, self.files) or None,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
        )
        if arrived is None:
            memory.delete("pending")
            raise MdspWaitTimeoutError(
                f"An import job for {self.entity_id}/{self.aspect} was submitted but its answer was lost, and "
                f"no records arrived in the files' ranges within {self.timeout:.0f} s; the next try submits again"
            )
        memory.delete("pending")
        message = "Imported by a job whose submission answer was lost (its records are in every file's range)"
        self.log.info(message)
        return {"job_id": None, "status": "SUCCESS", "message": message, "startTime": None, "lastModified": None}

    @staticmethod
    def job_trigger() -> type[MdspBulkImportJobTrigger]:
        """Return the trigger class that checks the import job."""
        from airflow_provider_mdsp.triggers.bulk import MdspBulkImportJobTrigger

        return MdspBulkImportJobTrigger

    def job_label(self) -> str:
        """Return what messages call the job."""
        return "import job"

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: the job's summary, or its failure or the timeout as an error."""
        return self._finish(context, event)

    def _finish(self, context: Context, event: Mapping[str, Any] | None) -> dict[str, Any]:
        if isinstance(event, Mapping) and (event.get("status") == SUCCESS or event.get("job_failed")):
            forget_job_id(context)  # the job ended: a later run imports anew
        # A timeout or a failed status check keeps the id: the job may still be running, and a
        # retry of the task waits for it instead of importing the same files twice.
        return result_from_event(event, on_timeout=MdspWaitTimeoutError)


def known_job_id(context: Mapping[str, Any], task_id: str) -> str | None:
    """Return the job id an earlier try of this task instance submitted, if it is remembered.

    :param context: the task context.
    :param task_id: this task's id, for the XCom fallback before Airflow 3.3.
    """
    memory = TryMemory(context, MEMORY_PREFIX)
    found = memory.get("job_id")
    if found or context.get("task_state_store") is not None:
        return found
    ti = context.get("ti")
    if ti is None:
        return None
    # XCom of this task: found when the same try resumes (Airflow clears it when a new try starts).
    value = ti.xcom_pull(task_ids=task_id, key=XCOM_KEY)
    return str(value) if value else None


def remember_job_id(context: Mapping[str, Any], job_id: str) -> None:
    """Store the job id where a retry finds it, before any waiting (try memory and XCom)."""
    TryMemory(context, MEMORY_PREFIX).set("job_id", job_id)
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=XCOM_KEY, value=job_id)


def forget_job_id(context: Mapping[str, Any]) -> None:
    """Drop the remembered job id once the job ended, so a later clear-and-rerun imports again."""
    TryMemory(context, MEMORY_PREFIX).delete("job_id")
