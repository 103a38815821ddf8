"""Time-series import jobs of the Data Lake: a time-driven state machine that writes files into the lake.

Sources: N:sdk/data-lake/data-lake.ts (``PostTimeSeriesImportJob``, ``GetTimeSeriesImportJob(s)``,
``…/details`` "only available once a job is not any longer in status PENDING", ``Delete…`` "completed
job") and data-lake.models.ts (``ImportJobRequest`` ``{name, destination, subtenantId, aspectNames,
assetIds, from, to}``; ``ImportJobResponse`` ``{id, name, destinationPath, status, subtenantId}``
with ``status`` PENDING, QUEUED, IN_PROGRESS, SUCCESS, FAILED; ``ImportJobDetails`` adds
``progress``, ``fileCount``, ``responseMessage``).

A job moves ``PENDING -> IN_PROGRESS -> SUCCESS | FAILED`` with ``step_s`` seconds per step. On
SUCCESS it has written one file per asset and aspect, ``{destinationPath}/{assetId}/{aspect}.json``,
holding the records of ``(from, to]`` as JSON lines (one ``{"_time", …}`` object per line). An
unknown asset or aspect, or an empty window, ends the job in FAILED with a ``responseMessage``.

Gaps: the real output format and file layout, the default destination (``tsimport/{id}`` here),
QUEUED (never entered here), any limit on assets, aspects or the window's length.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ...errors import INVALID_BODY, MISSING_BODY, ApiError
from ...timefmt import TimeFormatError, format_ms, parse_iso
from ..jobsteps import JobBook, JobClock, job_step
from ..timeseries.models import TimeSeriesBackend
from ..timeseries.render import render_records
from .store import TENANT_OWNER, LakeStore, clean_path

FINAL = ("SUCCESS", "FAILED")
READ_LIMIT = 1_000_000  # records per asset/aspect one job exports (an emulator bound)


@dataclass
class ImportJob:
    """One import job; its status is a function of the time since submission."""

    id: str
    name: str
    owner: str
    destination: str
    asset_ids: list[str]
    aspect_names: list[str]
    lo: int
    hi: int
    submitted: float
    failure: str | None = None
    files: list[str] = field(default_factory=list)
    done: bool = False

    def status(self, now: float, step_s: float) -> str:
        """Return the status at ``now``.

        :param now: epoch seconds
        :param step_s: seconds per state
        """
        ended = "FAILED" if self.failure else "SUCCESS"
        return ("PENDING", "IN_PROGRESS", ended)[job_step(self.submitted, now, step_s)]


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ApiError(400, f"'{key}' must be a non-empty list of strings", MISSING_BODY)
    return list(value)


class ImportJobs(JobBook[ImportJob]):
    """The time-series import jobs of one tenant.

    :param store: the tenant's lake
    :param timeseries: the tenant's time series (the source)
    :param clock: the tenant's job clock
    """

    def __init__(self, store: LakeStore, timeseries: TimeSeriesBackend, clock: JobClock) -> None:
        super().__init__(clock)
        self.store = store
        self.timeseries = timeseries

    def create(self, body: Any, owner: str) -> ImportJob:
        """Submit a job.

        :param body: ``ImportJobRequest``
        :param owner: the partition the files go to
        :raises ApiError: 400 for a malformed body
        """
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ApiError(400, "'name' is required", MISSING_BODY)
        assets, aspects = _strings(body, "assetIds"), _strings(body, "aspectNames")
        try:
            lo, hi = parse_iso(str(body.get("from"))), parse_iso(str(body.get("to")))
        except TimeFormatError as exc:
            raise ApiError(400, f"'from' and 'to' must be ISO 8601 times: {exc}", INVALID_BODY) from exc
        if hi <= lo:
            raise ApiError(400, "'to' must be after 'from'", INVALID_BODY)
        job_id = str(uuid.uuid4())
        destination = (
            clean_path(body["destination"], "destination") if body.get("destination") else f"tsimport/{job_id}"
        )
        return self.add(ImportJob(job_id, body["name"], owner, destination, assets, aspects, lo, hi, self._clock()))

    def get(self, job_id: str, owner: str | None) -> ImportJob:
        """Return a job the caller may see (a subtenant sees only its own).

        :param job_id: the job id
        :param owner: the caller's subtenant, ``None`` for the tenant
        :raises ApiError: 404
        """
        job = self.jobs.get(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise ApiError(404, f"Time series import job '{job_id}' not found")
        return job

    def render(self, job: ImportJob, details: bool = False) -> dict[str, Any]:
        """Return ``ImportJobResponse`` (or ``ImportJobDetails``).

        :param job: the job
        :param details: add the details fields
        :raises ApiError: 400 for details of a PENDING job
        """
        status = job.status(self._clock(), self.step_s)
        out: dict[str, Any] = {"id": job.id, "name": job.name, "destinationPath": job.destination, "status": status}
        if job.owner != TENANT_OWNER:
            out["subtenantId"] = job.owner
        if not details:
            return out
        if status == "PENDING":
            raise ApiError(400, f"Details of job '{job.id}' are available once it is no longer PENDING")
        done = status in FINAL
        message = job.failure if status == "FAILED" else ("Import finished" if done else None)
        return {
            **out,
            "assetIds": job.asset_ids,
            "aspectNames": job.aspect_names,
            "from": format_ms(job.lo),
            "to": format_ms(job.hi),
            "progress": 100.0 if done else 50.0,
            "fileCount": len(job.files) if status == "SUCCESS" else 0,
            "responseMessage": message,
        }

    def delete(self, job_id: str, owner: str | None) -> None:
        """Delete a finished job (its files stay in the lake).

        :param job_id: the job id
        :param owner: the caller's subtenant, ``None`` for the tenant
        :raises ApiError: 400 while the job is still running
        """
        job = self.get(job_id, owner)
        if job.status(self._clock(), self.step_s) not in FINAL:
            raise ApiError(400, f"Job '{job_id}' is still running; only a completed job can be deleted")
        del self.jobs[job_id]

    def finish(self, job: ImportJob) -> None:
        """Write the files of a job that has ended; a failed export fails the job."""
        try:
            outputs = self._export(job)
        except ApiError as exc:
            job.failure = exc.message
            return
        for path, data in outputs:
            self.store.write_bytes(job.owner, path, data)
            job.files.append(path)

    def _export(self, job: ImportJob) -> list[tuple[str, bytes]]:
        outputs = []
        for asset in job.asset_ids:
            for aspect in job.aspect_names:
                self.timeseries.schema(asset, aspect)  # a missing asset or aspect fails the job
                hits = self.timeseries.read(asset, aspect, job.lo, job.hi, READ_LIMIT)
                records = json.loads(render_records(self.timeseries, asset, aspect, hits, None))
                lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
                outputs.append((f"{job.destination}/{asset}/{aspect}.json", lines.encode()))
        if not any(data for _path, data in outputs):
            raise ApiError(400, "No time series data in the requested window")
        return outputs
