"""Event Management v3 bulk jobs: create and delete events asynchronously.

Endpoints ``/createEventsJobs`` and ``/deleteEventsJobs``.

Source: Node SDK sdk/event/event-management.ts (``PostCreateEventsJob``: "Maximum 50 events can be
created at once"; ``PostDeleteEventsJob``: at most 1,000,000 events, the filter must contain one
``typeId`` equality, no negation; concurrent deletions on one event type end the job in
FINISHED_WITH_ERROR; a job's state can be read for 2 hours) and event-models.ts (``JobResource``
``{id, state}`` with ACCEPTED, IN_PROGRESS, FINISHED, FINISHED_WITH_ERROR; ``CreateJobResource``
``details.resultDescription[{event, resultCode, errorMessage}]``; ``DeleteJobResource``
``details{resultCode, resultDescription}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.paths import JsonFilter, filter_dict, segment
from airflow_provider_mdsp.exceptions import MdspConfigError

BASE = "/api/eventmanagement/v3"
#: Events one create job may carry (Node SDK sdk/event ``PostCreateEventsJob``).
MAX_EVENTS_PER_JOB = 50
#: Job states after which nothing changes any more.
FINAL_JOB_STATES = frozenset({"FINISHED", "FINISHED_WITH_ERROR"})
#: The job kinds and their collection names.
JOB_KINDS = {"create": "createEventsJobs", "delete": "deleteEventsJobs"}


def check_delete_filter(filter: JsonFilter) -> dict[str, Any]:
    """Return a delete-job filter once it names exactly one ``typeId`` by equality (Node SDK sdk/event).

    :param filter: the filter, a dict or JSON string.
    :raises MdspConfigError: no ``typeId``, a ``typeId`` that is not one plain value, or ``or``/``not``.
    """
    terms = filter_dict(filter)
    if "or" in terms or "not" in terms:
        raise MdspConfigError("A delete job's filter may not use 'or' or 'not' around typeId", field="filter")
    type_id = terms.get("typeId")
    if isinstance(type_id, Mapping) and set(type_id) == {"eq"}:
        type_id = type_id["eq"]
    if not isinstance(type_id, str) or not type_id:
        raise MdspConfigError(
            'A delete job\'s filter must name one event type, e.g. {"typeId": "acme.PumpAlarm", '
            '"timestamp": {"before": "2026-01-01T00:00:00Z"}}',
            field="filter",
        )
    return terms


class EventJobsClient(ApiClient):
    """Start and read Event Management create and delete jobs."""

    FINAL_JOB_STATES = FINAL_JOB_STATES

    def create_events_job(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Start a job creating 1 to 50 events; return ``{id, state}``.

        Not idempotent: the transport does not resend it once it may have arrived. Give each event
        a ``correlationId`` so a retry can find what an earlier job created.

        :param events: event bodies (``entityId``, ``timestamp``, ``typeId`` …).
        """
        bodies = [dict(e) for e in events]
        if not 1 <= len(bodies) <= MAX_EVENTS_PER_JOB:
            raise MdspConfigError(
                f"A create job takes 1 to {MAX_EVENTS_PER_JOB} events, not {len(bodies)}", field="events"
            )
        return self.transport.request_json("POST", f"{BASE}/createEventsJobs", json={"events": bodies})

    def delete_events_job(self, filter: JsonFilter) -> dict[str, Any]:
        """Start a job deleting the events a filter matches (one ``typeId``); return ``{id, state}``.

        :param filter: e.g. ``{"typeId": "acme.PumpAlarm", "timestamp": {"before": "…"}}``.
        """
        terms = check_delete_filter(filter)
        return self.transport.request_json("POST", f"{BASE}/deleteEventsJobs", json={"filter": terms})

    def get_events_job(self, kind: str, job_id: str) -> dict[str, Any]:
        """Return a job ``{id, state, details}``.

        :param kind: ``create`` or ``delete``.
        :param job_id: the job id.
        """
        if kind not in JOB_KINDS:
            raise MdspConfigError(f"kind must be 'create' or 'delete', not {kind!r}", field="kind")
        return self.transport.request_json("GET", f"{BASE}/{JOB_KINDS[kind]}/{segment(job_id, name='job_id')}")
