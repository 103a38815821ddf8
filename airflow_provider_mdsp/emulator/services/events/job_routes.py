"""Event Management v3 job routes: ``/createEventsJobs`` and ``/deleteEventsJobs`` (see :mod:`.jobs`).

Each kind has a POST that accepts a job (a create job holds up to 50 events; a delete job, a
filter on one event type) and a GET of the job's state with, once final, its result.

Gap choice: POST answers 201 with the job resource ``{id, state}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...auth import authorized_backend
from ...responses import json_response
from ...wire import read_json
from .jobs import EventJob, EventJobs
from .routes import PREFIX

router = APIRouter(prefix=PREFIX)


def _add_job_routes(path: str, kind: str, accept: Callable[[EventJobs, Any], EventJob]) -> None:
    """Register the POST and GET routes of one job kind.

    :param path: the collection's path, e.g. ``/createEventsJobs``
    :param kind: the job kind, ``create`` or ``delete``
    :param accept: ``(jobs, body) -> job``; checks the body (raises 400)
    """

    async def accept_job(request: Request) -> Response:
        jobs = authorized_backend(request, "em.w").event_jobs
        job = accept(jobs, await read_json(request))
        return json_response(jobs.get(kind, job.id), 201)

    async def get_job(request: Request, job_id: str) -> Response:
        return json_response(authorized_backend(request, "em.r").event_jobs.get(kind, job_id))

    router.add_api_route(path, accept_job, methods=["POST"])
    router.add_api_route(f"{path}/{{job_id}}", get_job, methods=["GET"])


_add_job_routes("/createEventsJobs", "create", EventJobs.create)
_add_job_routes("/deleteEventsJobs", "delete", EventJobs.delete)
