"""IoT TS Bulk v3 (§8): import jobs as a time-driven state machine, and bulk reads.

An import job reads JSON record files (arrays sorted by ``_time``) from IoT File on the job's
entity. It is checked when submitted; its status then moves ``SUBMITTED -> IN_PROGRESS ->
SUCCESS | ERROR`` with ``step_s`` seconds per step, and on SUCCESS the records are written to
the time series (whole-record replace, like a TS PUT), where plain TS and bulk reads see them.

Rules enforced (performance twins, QX/DOC): one entity/property-set pair per job, at most 100
files, the job's ``from``..``to`` span at most one day, records at least 30 minutes old and
inside their file's ``from``..``to``. Violations of the body shape answer 400; problems with the
files or their records end the job in ERROR with a ``message``.

Not emulated: simulation twins (one UTC hour, 350 MB/h), size limits in bytes, the legacy
``jobId``/``jobStartTime`` field names, the 1-minute read budget (a page holds
at most ``routes.PAGE_RECORDS`` records instead).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from ...errors import INVALID_BODY, MISSING_BODY, ApiError, lookup
from ...timefmt import MS_PER_DAY, MS_PER_MINUTE, TimeFormatError, format_ms, parse_iso
from ..files.models import FileBackend
from ..jobsteps import JobBook, JobClock, job_step
from ..timeseries.models import TimeSeriesBackend
from ..timeseries.store import Record

MAX_FILES = 100
MAX_JOB_SPAN_MS = MS_PER_DAY
MIN_RECORD_AGE_MS = 30 * MS_PER_MINUTE


@dataclass
class ImportJob:
    """One import job; its status is a function of the time since submission."""

    id: str
    entity: str
    property_set: str
    submitted: float
    records: dict[int, Record] | None
    error: str | None
    done: bool = False

    def state(self, now: float, step_s: float) -> tuple[str, float]:
        """Return ``(status, last state change)`` at ``now``.

        :param now: epoch seconds
        :param step_s: seconds per step
        """
        step = job_step(self.submitted, now, step_s)
        ended = "ERROR" if self.error else "SUCCESS"
        return ("SUBMITTED", "IN_PROGRESS", ended)[step], self.submitted + step * step_s


class BulkBackend(JobBook[ImportJob]):
    """Import jobs of one tenant.

    :param files: the tenant's IoT File model (source of the record files)
    :param timeseries: the tenant's time-series model (target)
    :param clock: the tenant's job clock
    """

    def __init__(self, files: FileBackend, timeseries: TimeSeriesBackend, clock: JobClock) -> None:
        super().__init__(clock)
        self.files = files
        self.timeseries = timeseries

    def create(self, body: Any) -> ImportJob:
        """Submit an import job.

        :param body: ``{"data": [{"entity", "propertySetName", "timeseriesFiles": [{"filePath", "from", "to"}]}]}``
        :raises ApiError: 400 when the body is malformed
        """
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
            raise ApiError(400, "'data' must hold exactly one entity/property set pair", INVALID_BODY)
        item = data[0]
        entity, ps, files = item.get("entity"), item.get("propertySetName"), item.get("timeseriesFiles")
        if not isinstance(entity, str) or not isinstance(ps, str):
            raise ApiError(400, "'entity' and 'propertySetName' are required", MISSING_BODY)
        if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
            raise ApiError(400, f"'timeseriesFiles' must list 1..{MAX_FILES} files", INVALID_BODY)
        specs = [_file_spec(f) for f in files]
        if max(s[2] for s in specs) - min(s[1] for s in specs) > MAX_JOB_SPAN_MS:
            raise ApiError(400, "One import job may cover at most one day (from..to)", INVALID_BODY)
        records, error = None, None
        try:
            records = self._load(entity, ps, specs)
        except ApiError as exc:
            error = exc.message
        return self.add(ImportJob(str(uuid.uuid4()), entity, ps, self._clock(), records, error))

    def _load(self, entity: str, ps: str, specs: list[tuple[str, int, int]]) -> dict[int, Record]:
        out: dict[int, Record] = {}
        newest_allowed = int(self._clock() * 1000) - MIN_RECORD_AGE_MS
        for path, lo, hi in specs:
            stored = self.files.files.get((entity, path))
            if stored is None:
                raise ApiError(400, f"File '{path}' does not exist in IoT File for entity {entity}")
            try:
                records = json.loads(stored.data)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ApiError(400, f"File '{path}' is not a JSON array of records: {exc}") from exc
            parsed = self.timeseries.validate(entity, ps, records)
            times = list(parsed)
            if times != sorted(times):
                raise ApiError(400, f"File '{path}': records must be sorted by _time")
            outside = [t for t in times if not lo <= t <= hi]
            if outside:
                raise ApiError(400, f"File '{path}': record at {format_ms(outside[0])} is outside its from..to")
            if times and times[-1] > newest_allowed:
                raise ApiError(400, f"File '{path}': records must be at least 30 minutes old")
            out.update(parsed)
        return out

    def status(self, job_id: str) -> dict[str, Any]:
        """Return a job's status document.

        :param job_id: the job id
        :raises ApiError: 404
        """
        job = lookup(self.jobs, job_id, f"Import job '{job_id}' not found")
        state, changed = job.state(self._clock(), self.step_s)
        return {
            "id": job.id,
            "status": state,
            "message": job.error if state == "ERROR" else None,
            "startTime": format_ms(int(job.submitted * 1000)),
            "lastModified": format_ms(int(changed * 1000)),
        }

    def finish(self, job: ImportJob) -> None:
        """Write the records of a job that has ended in SUCCESS (one in ERROR has none)."""
        if job.records:
            self.timeseries.pages.forget(job.entity, job.property_set)
            self.timeseries.data(job.entity, job.property_set).write(job.records)


def _file_spec(f: Any) -> tuple[str, int, int]:
    if not isinstance(f, dict) or not isinstance(f.get("filePath"), str):
        raise ApiError(400, "Every timeseriesFiles entry needs 'filePath', 'from' and 'to'", MISSING_BODY)
    try:
        lo, hi = parse_iso(str(f.get("from"))), parse_iso(str(f.get("to")))
    except TimeFormatError as exc:
        raise ApiError(400, f"timeseriesFiles '{f['filePath']}': {exc}", INVALID_BODY) from exc
    if hi < lo:
        raise ApiError(400, f"timeseriesFiles '{f['filePath']}': 'to' is before 'from'", INVALID_BODY)
    return f["filePath"], lo, hi
