"""Event Management bulk jobs: create and delete events asynchronously, as a time-driven state machine.

Sources: N:sdk/event/event-management.ts and event-models.ts (see the client's
``event_jobs`` module): at most 50 events per create job; a delete filter must name exactly one
``typeId`` by equality, without ``or``/``not``, and match at most 1,000,000 events; a second
deletion on an event type while one runs ends in FINISHED_WITH_ERROR; a job's state can be read for
2 hours. States: ACCEPTED -> IN_PROGRESS -> FINISHED | FINISHED_WITH_ERROR, ``step_s`` seconds
each. The work is done when the job reaches its final state.

Gaps: the real ``resultCode`` values (HTTP-like codes here: ``201``/``400`` per created event,
``200``/``409`` for a deletion), and the rule that deleting the newest event of a correlation
deletes its history (the matched events are deleted, no more).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ...errors import INVALID_BODY, MISSING_BODY, ApiError
from ..jobsteps import JobBook, JobClock, job_step
from .filter_rules import single_type_id
from .models import EventBackend

MAX_CREATE = 50
MAX_DELETE = 1_000_000
READABLE_S = 2 * 3600
FINAL = ("FINISHED", "FINISHED_WITH_ERROR")


@dataclass
class EventJob:
    """One create or delete job."""

    id: str
    kind: str
    submitted: float
    events: list[Any] = field(default_factory=list)
    filter: dict[str, Any] | None = None
    type_id: str | None = None
    details: Any = None
    failed: bool = False
    done: bool = False

    def state(self, now: float, step_s: float) -> str:
        """Return the job's state at ``now``."""
        ended = "FINISHED_WITH_ERROR" if self.failed else "FINISHED"
        return ("ACCEPTED", "IN_PROGRESS", ended)[job_step(self.submitted, now, step_s)]


def _type_of(terms: dict[str, Any]) -> str:
    """Return the event type a delete filter names: one ``typeId`` equality at its top (:func:`single_type_id`)."""
    if "or" in terms or "not" in terms:
        raise ApiError(400, "A delete filter may not use 'or' or 'not'", INVALID_BODY)
    type_id = single_type_id(terms)
    if type_id is None or "typeId" not in terms:
        raise ApiError(400, "The delete filter must contain one typeId equality", MISSING_BODY)
    return type_id


class EventJobs(JobBook[EventJob]):
    """The create and delete jobs of one tenant.

    :param events: the tenant's events
    :param clock: the tenant's job clock
    """

    def __init__(self, events: EventBackend, clock: JobClock) -> None:
        super().__init__(clock)
        self.events = events

    def create(self, body: Any) -> EventJob:
        """Accept a create job ``{"events": [...]}`` (1 to 50).

        :raises ApiError: 400
        """
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_CREATE:
            raise ApiError(400, f"'events' must list 1 to {MAX_CREATE} events", INVALID_BODY)
        return self.add(EventJob(str(uuid.uuid4()), "create", self._clock(), events=events))

    def delete(self, body: Any) -> EventJob:
        """Accept a delete job ``{"filter": {...}}``.

        :raises ApiError: 400
        """
        terms = body.get("filter") if isinstance(body, dict) else None
        if isinstance(terms, str):
            try:
                terms = json.loads(terms)
            except json.JSONDecodeError as exc:
                raise ApiError(400, f"filter is not valid JSON: {exc.msg}", INVALID_BODY) from exc
        if not isinstance(terms, dict):
            raise ApiError(400, "'filter' is required", MISSING_BODY)
        type_id = _type_of(terms)
        self.events.get_type(type_id, status=400)
        self.events.compile_search(json.dumps(terms))  # a search's rules too: filterable fields only
        now = self._clock()
        running = [j for j in self.jobs.values() if j.kind == "delete" and j.type_id == type_id and not j.done]
        job = EventJob(str(uuid.uuid4()), "delete", now, filter=terms, type_id=type_id)
        if running:
            job.failed = True
            job.details = {"resultCode": "409", "resultDescription": f"A deletion of {type_id} events is running"}
        return self.add(job)

    def get(self, kind: str, job_id: str) -> dict[str, Any]:
        """Return a job's resource (``{id, state, details?}``).

        :raises ApiError: 404 for unknown jobs and jobs older than 2 hours
        """
        self.advance()
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind or self._clock() - job.submitted > READABLE_S:
            raise ApiError(404, f"Job '{job_id}' not found")
        out: dict[str, Any] = {"id": job.id, "state": job.state(self._clock(), self.step_s)}
        if out["state"] in FINAL:
            out["details"] = job.details
        return out

    def finish(self, job: EventJob) -> None:
        """Do the work of a job that has reached its final state."""
        if job.kind == "create":
            self._run_create(job)
        elif not job.failed:
            self._run_delete(job)

    def _run_create(self, job: EventJob) -> None:
        results = []
        for body in job.events:
            try:
                created = self.events.create_event(body)
                results.append({"event": json.dumps(created), "resultCode": "201"})
            except ApiError as exc:
                job.failed = True
                results.append({"event": json.dumps(body), "resultCode": str(exc.status), "errorMessage": exc.message})
        job.details = {"resultDescription": results}

    def _run_delete(self, job: EventJob) -> None:
        doomed = self.events.search(json.dumps(job.filter), history=True)
        if len(doomed) > MAX_DELETE:
            job.failed = True
            job.details = {"resultCode": "400", "resultDescription": f"More than {MAX_DELETE} events match"}
            return
        for event in doomed:
            self.events.events.pop(event["id"], None)
        job.details = {"resultCode": "200", "resultDescription": f"{len(doomed)} events deleted"}
