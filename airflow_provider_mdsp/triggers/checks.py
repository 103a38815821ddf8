"""The checks that sensors, triggers and waiting operators share: one request path for every mode.

A sensor's ``poke`` (poke and reschedule modes), its trigger's ``run`` (deferrable mode, through
``asyncio.to_thread``) and a waiting operator call the *same* function here, with the same plain
JSON arguments. Nothing is copied into an async twin, so deferrable and sync modes cannot drift
(most bugs of Airflow's own deferrable HTTP paths came from such copies).

Each ``check_*`` function makes one cheap read and returns ``None`` (not there yet: wait and ask
again) or a small dict of plain JSON (done: the sensor's XCom value). It raises the client's typed
errors. This module imports no Airflow, so the checks run under plain pytest too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.client.bulk import FINAL_STATES
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.timeutil import format_time, to_datetime, utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_provider_mdsp.hooks.mdsp import MdspHook

log = logging.getLogger(__name__)

#: Most matching event ids an event check returns (XCom is for small data).
DEFAULT_MAX_MATCHES = 100
#: Events per page of the event check; the service's documented maximum (Node SDK ``GetEvents``).
EVENT_PAGE_SIZE = 100


def check_new_timeseries(
    hook: MdspHook,
    asset_id: str,
    aspect: str,
    after: str,
    variables: Iterable[str] | str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Tell whether an aspect has a record later than ``after``: one read of at most one record.

    Reads ``(after, now]`` with ``limit=1`` (the earliest such record, the service's default order),
    so a poke costs one small request however much data there is.

    :param hook: the hook whose client is used.
    :param asset_id: the asset id.
    :param aspect: the aspect (property set) name.
    :param after: ISO 8601 time; only records strictly later count (the API's ``from`` is exclusive).
    :param variables: only records with these variables (``select``).
    :param now: the end of the read window; the current time by default.
    :return: ``{"asset_id", "aspect", "after", "to", "first_time"}`` or ``None`` when no new record
        exists: new records lie in ``(after, to]``, the earliest at ``first_time``; a downstream read
        of exactly that window (``from_time=after``, ``to_time=to``) gets them all.
    """
    start = to_datetime(after, name="after")
    end = now or utcnow()
    if end <= start:
        return None  # the window is empty: nothing can be newer than a point still in the future
    # prefetch=0: read-ahead would fetch a second page in the background, doubling every poke's cost.
    pages = hook.client.timeseries.iter_timeseries_pages(
        asset_id, aspect, from_=start, to=end, select=variables, limit=1, prefetch=0
    )
    try:
        first = next(iter(pages), [])
    finally:
        getattr(pages, "close", lambda: None)()  # stop paging: one record answers the question
    if not first:
        log.info("No record of %s/%s after %s yet", asset_id, aspect, format_time(start))
        return None
    found = {"asset_id": asset_id, "aspect": aspect, "after": format_time(start), "to": format_time(end)}
    return {**found, "first_time": first[0].get("_time")}


def check_events(
    hook: MdspHook, filter: Mapping[str, Any], *, max_matches: int = DEFAULT_MAX_MATCHES
) -> dict[str, Any] | None:
    """Tell whether events match a filter; return the ids of the first ``max_matches`` of them.

    Events are read oldest first (``sort=timestamp,asc``), so the same events give the same result.
    Without a ``timestamp`` term the service searches only the last 7 days, and it keeps only the
    newest event per correlation.

    :param hook: the hook whose client is used.
    :param filter: a composed Event Management filter (see :func:`compose_event_filter`).
    :param max_matches: the most event ids returned; ``truncated`` says whether more matched.
    :return: ``{"count", "event_ids", "first_time", "last_time", "truncated"}`` or ``None`` when
        nothing matches; ``count`` is the number of ids returned.
    """
    if max_matches < 1:
        raise MdspConfigError(f"max_matches must be 1 or more, not {max_matches}", field="max_matches")
    matches: list[Mapping[str, Any]] = []
    truncated = False
    size = min(EVENT_PAGE_SIZE, max_matches + 1)
    for page in hook.client.events.iter_event_pages(filter=dict(filter), sort="timestamp,asc", size=size):
        matches.extend(page)
        if len(matches) > max_matches:
            truncated = True
            break
    if not matches:
        log.info("No event matches %s yet", dict(filter))
        return None
    kept = matches[:max_matches]
    times = [str(e["timestamp"]) for e in kept if e.get("timestamp")]
    return {
        "count": len(kept),
        "event_ids": [str(e.get("id")) for e in kept],
        "first_time": times[0] if times else None,
        "last_time": times[-1] if times else None,
        "truncated": truncated,
    }


def job_summary(job: Mapping[str, Any]) -> dict[str, Any]:
    """Return the XCom summary of an import job: ``{"job_id","status","message","startTime","lastModified"}``."""
    return {
        "job_id": str(job.get("id") or ""),
        "status": str(job.get("status") or "").upper(),
        "message": job.get("message"),
        "startTime": job.get("startTime"),
        "lastModified": job.get("lastModified"),
    }


def check_bulk_job(hook: MdspHook, job_id: str) -> dict[str, Any] | None:
    """Tell whether a TS Bulk import job has reached a final state (SUCCESS or ERROR).

    :param hook: the hook whose client is used.
    :param job_id: the job id.
    :return: the job summary (:func:`job_summary`) when final, else ``None``.
    """
    summary = job_summary({"id": job_id, **hook.client.bulk.get_import_job(job_id)})
    if summary["status"] not in FINAL_STATES:
        log.info("Import job %s is %s", job_id, summary["status"] or "in an unknown state")
        return None
    return summary


def bulk_job_failure(summary: Mapping[str, Any]) -> str | None:
    """Return the failure message of a finished import job, or ``None`` when it succeeded.

    :param summary: a job summary from :func:`check_bulk_job`.
    """
    if summary.get("status") != "ERROR":
        return None
    reason = summary.get("message") or "the service gave no message"
    return f"Bulk import job {summary.get('job_id')} ended in ERROR: {reason}"


def lake_job_summary(job: Mapping[str, Any]) -> dict[str, Any]:
    """Return the XCom summary of a Data Lake import job.

    :param job: the job or its details (Node SDK sdk/data-lake ``ImportJobDetails``).
    :return: ``{"job_id", "name", "status", "destinationPath", "fileCount", "message"}``.
    """
    return {
        "job_id": str(job.get("id") or ""),
        "name": job.get("name"),
        "status": str(job.get("status") or "").upper(),
        "destinationPath": job.get("destinationPath"),
        "fileCount": job.get("fileCount"),
        "message": job.get("responseMessage"),
    }


def check_lake_import_job(hook: MdspHook, job_id: str) -> dict[str, Any] | None:
    """Tell whether a Data Lake time-series import job has ended (SUCCESS or FAILED).

    One status read per check; the details (file count, message) are read once it has ended.

    :param hook: the hook whose client is used.
    :param job_id: the job id.
    :return: the job summary (:func:`lake_job_summary`) when final, else ``None``.
    """
    datalake = hook.client.datalake
    job = datalake.get_import_job(job_id)
    status = str(job.get("status") or "").upper()
    if status not in datalake.FINAL_JOB_STATES:
        log.info("Data Lake import job %s is %s", job_id, status or "in an unknown state")
        return None
    return lake_job_summary({"id": job_id, **datalake.get_import_job_details(job_id)})


def lake_job_failure(summary: Mapping[str, Any]) -> str | None:
    """Return the failure message of a finished Data Lake import job, or ``None`` when it succeeded.

    :param summary: a summary from :func:`check_lake_import_job`.
    """
    if summary.get("status") != "FAILED":
        return None
    reason = summary.get("message") or "the service gave no message"
    return f"Data Lake import job {summary.get('job_id')} FAILED: {reason}"


def check_events_job(hook: MdspHook, kind: str, job_id: str) -> dict[str, Any] | None:
    """Tell whether an Event Management create or delete job has finished (FINISHED or FINISHED_WITH_ERROR).

    :param hook: the hook whose client is used.
    :param kind: ``create`` or ``delete``.
    :param job_id: the job id.
    :return: ``{"job_id", "kind", "state", "details"}`` when finished, else ``None``.
    """
    jobs = hook.client.event_jobs
    job = jobs.get_events_job(kind, job_id)
    state = str(job.get("state") or "").upper()
    if state not in jobs.FINAL_JOB_STATES:
        log.info("Event %s job %s is %s", kind, job_id, state or "in an unknown state")
        return None
    return {"job_id": job_id, "kind": kind, "state": state, "details": job.get("details")}


def events_job_failure(summary: Mapping[str, Any]) -> str | None:
    """Return why a finished event job failed (FINISHED_WITH_ERROR, with its details), or ``None``.

    :param summary: a summary from :func:`check_events_job`.
    """
    if summary.get("state") != "FINISHED_WITH_ERROR":
        return None
    return f"Event {summary.get('kind')} job {summary.get('job_id')} finished with errors: {summary.get('details')}"
