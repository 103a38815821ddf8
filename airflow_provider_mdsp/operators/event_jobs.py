"""Operators for Event Management bulk jobs: create many events, or delete events of a type, and wait.

Source: :mod:`airflow_provider_mdsp.client.event_jobs`. Each job is waited for like the bulk import:
in the worker, or in the triggerer when ``deferrable`` (``MdspEventsJobTrigger``), both through
:func:`~airflow_provider_mdsp.triggers.checks.check_events_job` (a job's state can be read for 2
hours). The running job's id is remembered before any waiting (the task instance's try memory,
:class:`~airflow_provider_mdsp.operators.trystate.TryMemory`), so a retried task waits for that
job again instead of submitting it twice; it is forgotten once the job ends. Creating is re-run
safe the way :class:`~airflow_provider_mdsp.operators.events.MdspCreateEventOperator` is: each
event gets a ``correlationId`` derived from the task instance, and events already there are not
sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspWaitTimeoutError
from airflow_provider_mdsp.operators.base import MdspBaseOperator
from airflow_provider_mdsp.operators.jobs import MdspJobOperator
from airflow_provider_mdsp.operators.trystate import TryMemory
from airflow_provider_mdsp.operators.waiting import SUCCESS, result_from_event

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.event_jobs import MdspEventsJobTrigger

DEFAULT_TIMEOUT_S = 3600.0
#: Prefix of the try memory; the running job is ``<prefix>job_id`` as ``<kind>:<id>``.
MEMORY_PREFIX = "mdsp_events_job_"


class _WaitsForEventsJob(MdspJobOperator):
    """Submit each job once and wait for it; subclasses say what comes next in :meth:`next_job`.

    ``state`` is the plain JSON a deferred task resumes from (it travels with the trigger as
    ``carry``); ``last`` in it is the summary of the job that just finished.
    """

    #: ``create`` or ``delete``.
    kind: str

    def __init__(
        self, *, poll_interval: float | timedelta = 5, timeout: float | timedelta = DEFAULT_TIMEOUT_S, **kwargs: Any
    ) -> None:
        super().__init__(poll_interval=poll_interval, timeout=timeout, **kwargs)

    @staticmethod
    def job_trigger() -> type[MdspEventsJobTrigger]:
        """Return the trigger class that checks an event job."""
        from airflow_provider_mdsp.triggers.event_jobs import MdspEventsJobTrigger

        return MdspEventsJobTrigger

    def job_label(self) -> str:
        """Return what messages call the job: ``event create job`` or ``event delete job``."""
        return f"event {self.kind} job"

    def make_trigger(self, job_id: str, timeout_at: str | None = None, **extra: Any) -> MdspEventsJobTrigger:
        """Return the trigger checking a job of this operator's kind (``carry`` in ``extra`` when deferring)."""
        return cast("MdspEventsJobTrigger", super().make_trigger(job_id, timeout_at, kind=self.kind, **extra))

    def execute(self, context: Context) -> Any:
        """Wait first for a job an earlier try submitted and did not see end, then go on submitting."""
        self.validate()
        remembered = TryMemory(context, MEMORY_PREFIX).get("job_id")
        kind, _, job_id = (remembered or "").partition(":")
        state: dict[str, Any] = {}
        if kind == self.kind and job_id:
            self.log.info("Waiting again for event %s job %s, submitted by an earlier try", kind, job_id)
            state = self.reattached(job_id)
            state["last"] = self.wait(context, job_id, state)
        return self.proceed(context, state)

    def proceed(self, context: Context, state: dict[str, Any]) -> Any:
        """Submit the next job and wait for it until :meth:`next_job` says the work is done."""
        while True:
            job_id, value = self.next_job(context, state)
            if job_id is None:
                return value
            state = {**value, "last": self.wait(context, job_id, value)}

    def wait(self, context: Context, job_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """Remember a job, wait for it (in the worker, or deferred) and return its summary.

        :raises MdspJobFailedError: it finished with errors.
        :raises MdspWaitTimeoutError: it did not finish within ``timeout`` (a retry waits for it again).
        """
        TryMemory(context, MEMORY_PREFIX).set("job_id", f"{self.kind}:{job_id}")
        if self.deferrable:
            self.defer_to_trigger(job_id, carry=state)
        return self.job_ended(context, self.wait_in_worker(self.make_trigger(job_id)))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: raise the job's failure or the timeout, else go on from its ``carry``."""
        carry = event.get("carry") if isinstance(event, Mapping) else None
        return self.proceed(context, {**(carry or {}), "last": self.job_ended(context, event)})

    def job_ended(self, context: Context, event: Mapping[str, Any] | None) -> dict[str, Any]:
        """Forget a job that ended and return its summary, or raise its failure or the timeout."""
        if isinstance(event, Mapping) and (event.get("status") == SUCCESS or event.get("job_failed")):
            TryMemory(context, MEMORY_PREFIX).delete("job_id")  # it ended: a retry has nothing to wait for
        # A timeout or a failed status check keeps the id: a retry waits for the same job.
        return dict(result_from_event(event, on_timeout=MdspWaitTimeoutError))

    def validate(self) -> None:
        """Check the arguments before any request."""

    def reattached(self, job_id: str) -> dict[str, Any]:
        """Return the state to continue from after waiting for an earlier try's job."""
        return {}

    def next_job(self, context: Context, state: dict[str, Any]) -> tuple[str | None, Any]:
        """Submit the next job and return ``(job_id, state)``, or ``(None, result)`` when done."""
        raise NotImplementedError


class MdspCreateEventsJobOperator(_WaitsForEventsJob):
    """Create many events through ``createEventsJobs`` (50 per job) and wait for each job.

    Each event without a ``correlationId`` gets one derived from the task instance and its position;
    events whose correlation id already exists on their asset are skipped, so a retry or re-run
    creates nothing twice. A retry first waits for the job the failed try left running.

    :param events: event bodies (``entityId``, ``timestamp``, ``typeId`` and fields) (templated).
    :param poll_interval: seconds between job state reads.
    :param timeout: longest wait per job, in seconds.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :returns: ``{"created", "skipped", "job_ids"}``.
    """

    kind = "create"
    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "events")
    template_fields_renderers = {"events": "json"}

    def __init__(self, *, events: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events = events

    def validate(self) -> None:
        """Check that ``events`` is a list of dicts."""
        if not isinstance(self.events, list) or not all(isinstance(e, Mapping) for e in self.events):
            raise MdspConfigError("events must be a list of event dicts", field="events")

    def reattached(self, job_id: str) -> dict[str, Any]:
        """Count the earlier try's job; its events are skipped as existing afterwards."""
        return {"job_ids": [job_id]}

    def next_job(self, context: Context, state: dict[str, Any]) -> tuple[str | None, Any]:
        """Plan once which events are missing (by index), then submit the next 50 of them."""
        from airflow_provider_mdsp.client.event_jobs import MAX_EVENTS_PER_JOB

        bodies = [{"correlationId": self._correlation_id(context, i), **dict(e)} for i, e in enumerate(self.events)]
        if state.get("missing") is None:
            missing = [i for i, body in enumerate(bodies) if not self._exists(body)]
            state = {**state, "missing": missing, "skipped": len(bodies) - len(missing), "sent": 0}
        missing, sent, job_ids = state["missing"], int(state["sent"]), list(state.get("job_ids") or [])
        if sent >= len(missing):
            self.log.info("Created %d events in %d jobs; %d existed already", sent, len(job_ids), state["skipped"])
            return None, {"created": sent, "skipped": state["skipped"], "job_ids": job_ids}
        chunk = missing[sent : sent + MAX_EVENTS_PER_JOB]
        job_id = str(self.hook.client.event_jobs.create_events_job([bodies[i] for i in chunk])["id"])
        self.log.info("Submitted create job %s with %d events", job_id, len(chunk))
        return job_id, {**state, "sent": sent + len(chunk), "job_ids": [*job_ids, job_id]}

    def _correlation_id(self, context: Mapping[str, Any], index: int) -> str:
        ti = context.get("ti")
        key = f"{self.dag_id}/{self.task_id}/{getattr(ti, 'map_index', -1)}/{context.get('run_id')}/{index}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mdsp-events-job:{key}"))

    def _exists(self, body: Mapping[str, Any]) -> bool:
        from airflow_provider_mdsp.client.events import EXACT_LOOKUP_WINDOW

        # The body carries its own timestamp, so the event an earlier try sent has exactly that one.
        return self.hook.client.events.find_by_correlation(body, window=EXACT_LOOKUP_WINDOW) is not None


class MdspDeleteEventsJobOperator(_WaitsForEventsJob):
    """Delete the events of one type a filter matches through ``deleteEventsJobs``, and wait.

    Deleting is idempotent: a re-run deletes what is left (nothing); a retry first waits for the
    job the failed try left running. The filter must name one ``typeId`` (equality), e.g.
    ``{"typeId": "acme.PumpAlarm", "timestamp": {"before": "…"}}``.

    :param filter: the Event Management filter (templated).
    :param poll_interval: seconds between job state reads.
    :param timeout: longest wait, in seconds.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :returns: ``{"job_id", "state", "details"}``.
    """

    kind = "delete"
    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "filter")
    template_fields_renderers = {"filter": "json"}

    def __init__(self, *, filter: dict[str, Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filter = filter

    def next_job(self, context: Context, state: dict[str, Any]) -> tuple[str | None, Any]:
        """Submit the delete job, or report the one that finished."""
        last = state.get("last")
        if last:
            self.log.info("Delete job %s finished: %s", last["job_id"], last.get("details"))
            return None, {"job_id": last["job_id"], "state": last["state"], "details": last.get("details")}
        job_id = str(self.hook.client.event_jobs.delete_events_job(self.filter)["id"])
        self.log.info("Submitted delete job %s", job_id)
        return job_id, state
