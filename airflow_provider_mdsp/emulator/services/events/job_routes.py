"""Event Management v3 job routes: ``/createEventsJobs`` and ``/deleteEventsJobs`` (see :mod:`.jobs`).

Gap choice: POST answers 201 with the job resource ``{id, state}``.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...responses import json_response
from ...wire import read_json
from .routes import PREFIX

router = APIRouter(prefix=PREFIX)


async def _accept(request: Request, kind: str) -> Response:
    jobs = authorized_backend(request, "em.w").event_jobs
    body = await read_json(request)
    job = jobs.create(body) if kind == "create" else jobs.delete(body)
    return json_response(jobs.get(kind, job.id), 201)


@router.post("/createEventsJobs")
async def create_events_job(request: Request) -> Response:
    """Accept a job creating up to 50 events."""
    return await _accept(request, "create")


@router.get("/createEventsJobs/{job_id}")
async def get_create_events_job(request: Request, job_id: str) -> Response:
    """A create job's state and, once final, the result of each event."""
    return json_response(authorized_backend(request, "em.r").event_jobs.get("create", job_id))


@router.post("/deleteEventsJobs")
async def delete_events_job(request: Request) -> Response:
    """Accept a job deleting the events of one type a filter matches."""
    return await _accept(request, "delete")


@router.get("/deleteEventsJobs/{job_id}")
async def get_delete_events_job(request: Request, job_id: str) -> Response:
    """A delete job's state and, once final, its result."""
    return json_response(authorized_backend(request, "em.r").event_jobs.get("delete", job_id))
