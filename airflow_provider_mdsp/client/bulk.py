"""IoT TS Bulk v3: import jobs from IoT File into time series, and long-range reads (Node SDK ``sdk/iotbulk``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_next_record_pages
from airflow_provider_mdsp.client.paths import csv, required, segment
from airflow_provider_mdsp.client.paths import file_path as encode_file_path
from airflow_provider_mdsp.client.transport import parse_json
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspResponseError
from airflow_provider_mdsp.timeutil import TimeValue, format_time, shift

BASE = "/api/iottsbulk/v3"
#: Job states after which nothing changes any more (Node SDK ``sdk/iotbulk``).
FINAL_STATES = frozenset({"SUCCESS", "ERROR"})
#: Files one import job may list (Siemens docs, IoT TS Bulk overview).
MAX_IMPORT_FILES = 100
#: Bytes read from the start of an import file to find its first record.
FIRST_RECORD_BYTES = 64 * 1024
#: Field names eu1 sent in 2019, mapped to today's (the Node SDK's ``sdk/iotbulk`` maps both).
_LEGACY_JOB_FIELDS = {"jobId": "id", "jobStartTime": "startTime", "jobLastModified": "lastModified"}


def normalize_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """Return an import job with today's field names (``id``, ``startTime``, ``lastModified``).

    :param job: the job as the service sent it; the 2019 eu1 names are renamed, current ones win.
    """
    result = dict(job)
    for old, new in _LEGACY_JOB_FIELDS.items():
        if old in result:
            value = result.pop(old)
            result.setdefault(new, value)
    return result


def job_id_from_location(location: str | None) -> str | None:
    """Return the job id at the end of a ``Location`` header (``…/importJobs/{id}``), if any."""
    if not location:
        return None
    last = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return unquote(last) or None


def _file_entry(entry: Mapping[str, Any], index: int) -> dict[str, Any]:
    missing = [k for k in ("filePath", "from", "to") if not entry.get(k)]
    if missing:
        raise MdspConfigError(f"files[{index}] lacks {', '.join(missing)}", field="files")
    return {
        **entry,
        "filePath": str(entry["filePath"]),
        "from": format_time(entry["from"], name=f"files[{index}].from"),
        "to": format_time(entry["to"], name=f"files[{index}].to"),
    }


def import_fingerprint(entity_id: str, property_set: str, files: Iterable[Mapping[str, Any]]) -> str:
    """Return a short digest naming one import (asset, aspect, files and their ranges).

    A task that remembers it before submitting knows, on its next try, whether a job for the
    very same files may already exist.

    :param entity_id: the asset id.
    :param property_set: the aspect name.
    :param files: the files as given to :meth:`BulkClient.create_import_job`.
    """
    entries = [_file_entry(f, i) for i, f in enumerate(files)]
    text = json.dumps([entity_id, property_set, entries], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class BulkClient(ApiClient):
    """Start and watch bulk import jobs, and read long time ranges (IoT TS Bulk v3)."""

    #: The module's :data:`FINAL_STATES`, also reachable as ``client.bulk.FINAL_STATES``.
    FINAL_STATES = FINAL_STATES

    def create_import_job(
        self, entity_id: str, property_set: str, files: Iterable[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Start importing time-series files already in IoT File on that asset, and return the job.

        The files hold JSON records sorted by ``_time``; one asset/aspect pair and at most 100 files
        per job (Siemens docs, IoT TS Bulk overview). Creating a job is not idempotent, so the transport does
        not resend it after it
        may have reached the service.

        :param entity_id: the asset id (the files must be stored on it).
        :param property_set: the aspect name.
        :param files: ``{"filePath", "from", "to"}`` per file; times as datetimes or ISO strings.
        :return: the job (``id``, ``status`` …); the id comes from the body or the ``Location`` header.
        """
        entries = [_file_entry(f, i) for i, f in enumerate(files)]
        if not entries or len(entries) > MAX_IMPORT_FILES:
            raise MdspConfigError(f"files must list 1 to {MAX_IMPORT_FILES} files", field="files")
        body = {
            "data": [
                {
                    "entity": required(entity_id, name="entity_id"),
                    "propertySetName": required(property_set, name="property_set"),
                    "timeseriesFiles": entries,
                }
            ]
        }
        response = self.transport.request("POST", f"{BASE}/importJobs", json=body)
        job = normalize_job(parse_json(response) or {})
        job.setdefault("id", job_id_from_location(response.headers.get("Location")))
        if not job.get("id"):
            raise MdspResponseError(
                "The import job was created but the answer names no job id (no body id, no Location header)",
                status=response.status_code,
            )
        return job

    def imported(self, entity_id: str, property_set: str, files: Iterable[Mapping[str, Any]]) -> bool:
        """Tell whether the time series holds the first record of every file, with the file's values.

        The service cannot list import jobs, so an import whose job id was lost is found by
        its effect. Each file's first record is read from IoT File (a ranged GET of its start) and
        looked up at its ``_time`` in the time series; a record there with other values (demo or
        older data) does not count.

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param files: the files of the import.
        """
        for index, entry in enumerate(_file_entry(f, i) for i, f in enumerate(files)):
            first = self._first_record(entity_id, entry["filePath"])
            if first is None:
                continue  # an empty file imports nothing
            at = str(first["_time"])
            # Reads are ``(from, to]``: start a millisecond before the record.
            start = shift(at, seconds=-0.001, name=f"files[{index}] first _time")
            pages = self.iter_bulk_timeseries_pages(entity_id, property_set, from_=start, to=format_time(at), limit=1)
            stored = next(iter_items(pages), None)
            if stored is None or any(stored.get(k) != v for k, v in first.items() if k != "_time"):
                return False
        return True

    def _first_record(self, entity_id: str, file_path: str) -> dict[str, Any] | None:
        """Return the first record of a JSON record file in IoT File, reading only its start."""
        path = f"/api/iotfile/v3/files/{segment(entity_id, name='entity_id')}/{encode_file_path(file_path)}"
        headers = {"Accept": "*/*", "Range": f"bytes=0-{FIRST_RECORD_BYTES - 1}"}
        head = self.transport.request("GET", path, headers=headers)
        text = head.content.decode("utf-8", errors="replace").lstrip()
        if not text.startswith("["):
            raise MdspResponseError(f"Import file {file_path} is not a JSON array of records", status=head.status_code)
        body = text[1:].lstrip()
        if body.startswith("]"):
            return None
        try:
            record, _ = json.JSONDecoder().raw_decode(body)
        except ValueError:
            raise MdspResponseError(
                f"The first record of import file {file_path} is not JSON or longer than {FIRST_RECORD_BYTES} bytes",
                status=head.status_code,
            ) from None
        return record if isinstance(record, dict) and record.get("_time") else None

    def get_import_job(self, job_id: str) -> dict[str, Any]:
        """Return an import job's state: ``status`` is SUBMITTED, IN_PROGRESS, SUCCESS or ERROR (Node SDK
        ``sdk/iotbulk``).

        :param job_id: the job id from :meth:`create_import_job`.
        """
        body = self.transport.request_json("GET", f"{BASE}/importJobs/{segment(job_id, name='job_id')}")
        return normalize_job(body or {})

    def iter_bulk_timeseries_pages(
        self,
        entity_id: str,
        property_set: str,
        *,
        from_: TimeValue,
        to: TimeValue,
        limit: int | None = None,
        select: str | Iterable[str] | None = None,
    ) -> Iterator[Page]:
        """Yield pages of records over a long range, following ``nextRecord`` (Node SDK ``sdk/iotbulk``).

        :param entity_id: the asset id.
        :param property_set: the aspect name.
        :param from_: start of the range (required; the range must be under 90 days).
        :param to: end of the range (required).
        :param limit: at most this many records in all, across pages: the service carries the
            rest of the limit on each ``nextRecord`` (Siemens docs, IoT TS Bulk overview). Without it the whole
            range is read, each
            page filling the service's 1-minute budget.
        :param select: variables to return.
        """
        path = f"{BASE}/timeseries/{segment(entity_id, name='entity_id')}/{segment(property_set, name='property_set')}"
        params = {
            "from": format_time(from_, name="from_"),
            "to": format_time(to, name="to"),
            "limit": limit,
            "select": csv(select),
        }
        return iter_next_record_pages(self.transport, path, params=params)

    def iter_bulk_timeseries(self, entity_id: str, property_set: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield records one by one; takes the arguments of :meth:`iter_bulk_timeseries_pages`."""
        return iter_items(self.iter_bulk_timeseries_pages(entity_id, property_set, **kwargs))
