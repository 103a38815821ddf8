"""Operators for Event Management bulk jobs: create many events, or delete events of a type, and wait.

Source: :mod:`airflow_provider_mdsp.client.event_jobs`. The job's state is polled in the worker
like the bulk import (a job's state can be read for 2 hours). Creating is made re-run safe the
way :class:`~airflow_provider_mdsp.operators.events.MdspCreateEventOperator` is: each event gets a
``correlationId`` derived from the task instance, and events already there are not sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError, MdspJobFailedError, MdspWaitTimeoutError
from airflow_provider_mdsp.operators.base import MdspBaseOperator
from airflow_provider_mdsp.operators.waiting import poll_until

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.client.event_jobs import EventJobsClient

DEFAULT_TIMEOUT_S = 3600.0


def wait_for_events_job(
    jobs: EventJobsClient, kind: str, job_id: str, *, poll_interval: float, timeout: float
) -> dict[str, Any]:
    """Poll a job until FINISHED (return it) or FINISHED_WITH_ERROR (raise with its details).

    :param jobs: the event jobs client.
    :param kind: ``create`` or ``delete``.
    :param job_id: the job id.
    :param poll_interval: seconds between reads.
    :param timeout: longest wait in seconds.
    :raises MdspJobFailedError: the job finished with errors.
    :raises MdspWaitTimeoutError: the job did not finish in time.
    """

    def ended() -> dict[str, Any] | None:
        job = jobs.get_events_job(kind, job_id)
        return job if str(job.get("state") or "").upper() in jobs.FINAL_JOB_STATES else None

    job = poll_until(ended, timeout=timeout, poll_interval=poll_interval)
    if job is None:
        raise MdspWaitTimeoutError(f"Event {kind} job {job_id} did not finish within {timeout:.0f} s")
    if str(job.get("state")).upper() == "FINISHED_WITH_ERROR":
        raise MdspJobFailedError(f"Event {kind} job {job_id} finished with errors: {job.get('details')}")
    return job


class _WaitsForEventsJob(MdspBaseOperator):
    def __init__(self, *, poll_interval: float = 5, timeout: float = DEFAULT_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout)


class MdspCreateEventsJobOperator(_WaitsForEventsJob):
    """Create many events through ``createEventsJobs`` (50 per job) and wait for the jobs.

    Each event without a ``correlationId`` gets one derived from the task instance and its position;
    events whose correlation id already exists on their asset are skipped, so a retry or re-run
    creates nothing twice.

    :param events: event bodies (``entityId``, ``timestamp``, ``typeId`` and fields) (templated).
    :param poll_interval: seconds between job state reads.
    :param timeout: longest wait per job, in seconds.
    :returns: ``{"created", "skipped", "job_ids"}``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "events")
    template_fields_renderers = {"events": "json"}

    def __init__(self, *, events: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events = events

    def execute(self, context: Context) -> dict[str, Any]:
        """Skip the events already there, then create the rest 50 per job."""
        from airflow_provider_mdsp.client.event_jobs import MAX_EVENTS_PER_JOB

        if not isinstance(self.events, list) or not all(isinstance(e, Mapping) for e in self.events):
            raise MdspConfigError("events must be a list of event dicts", field="events")
        client = self.hook.client
        bodies = [{"correlationId": self._correlation_id(context, i), **dict(e)} for i, e in enumerate(self.events)]
        missing = [b for b in bodies if not self._exists(b)]
        job_ids = []
        for start in range(0, len(missing), MAX_EVENTS_PER_JOB):
            job = client.event_jobs.create_events_job(missing[start : start + MAX_EVENTS_PER_JOB])
            job_ids.append(str(job["id"]))
            wait_for_events_job(
                client.event_jobs, "create", job_ids[-1], poll_interval=self.poll_interval, timeout=self.timeout
            )
        self.log.info(
            "Created %d events in %d jobs; %d existed already", len(missing), len(job_ids), len(bodies) - len(missing)
        )
        return {"created": len(missing), "skipped": len(bodies) - len(missing), "job_ids": job_ids}

    def _correlation_id(self, context: Mapping[str, Any], index: int) -> str:
        ti = context.get("ti")
        key = f"{self.dag_id}/{self.task_id}/{getattr(ti, 'map_index', -1)}/{context.get('run_id')}/{index}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mdsp-events-job:{key}"))

    def _exists(self, body: Mapping[str, Any]) -> bool:
        terms: dict[str, Any] = {"correlationId": body["correlationId"], "entityId": body.get("entityId")}
        if body.get("timestamp"):
            terms["timestamp"] = {"between": f"[{body['timestamp']}, {body['timestamp']}]"}
        found = self.hook.client.events.iter_events(filter=terms, size=1)
        return next(iter(found), None) is not None


class MdspDeleteEventsJobOperator(_WaitsForEventsJob):
    """Delete the events of one type a filter matches through ``deleteEventsJobs``, and wait.

    Deleting is idempotent: a re-run deletes what is left (nothing). The filter must name one
    ``typeId`` (equality), e.g. ``{"typeId": "acme.PumpAlarm", "timestamp": {"before": "…"}}``.

    :param filter: the Event Management filter (templated).
    :param poll_interval: seconds between job state reads.
    :param timeout: longest wait, in seconds.
    :returns: ``{"job_id", "state", "details"}``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "filter")
    template_fields_renderers = {"filter": "json"}

    def __init__(self, *, filter: dict[str, Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filter = filter

    def execute(self, context: Context) -> dict[str, Any]:
        """Start the job and wait for it."""
        jobs = self.hook.client.event_jobs
        job = jobs.delete_events_job(self.filter)
        done = wait_for_events_job(
            jobs, "delete", str(job["id"]), poll_interval=self.poll_interval, timeout=self.timeout
        )
        self.log.info("Delete job %s finished: %s", job["id"], done.get("details"))
        return {"job_id": str(job["id"]), "state": done.get("state"), "details": done.get("details")}
