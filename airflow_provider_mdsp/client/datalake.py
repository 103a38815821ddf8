"""Integrated Data Lake v3 (``/api/datalake/v3``): objects through pre-signed URLs, and time-series exports.

Sources: Node SDK sdk/data-lake/data-lake.ts and data-lake.models.ts (paths, bodies, answers);
Siemens docs, Integrated Data Lake overview (pre-signed URLs expire; an object is at most 5 GB on AWS).

* ``GET /objectMetadata/{path}`` returns one object's metadata ``{name, path, lastModified, size,
  tags, subtenantId}``; on a folder it returns ``{objectMetadata: [...], page}`` (``SearchResponse``).
* ``POST /generateUploadObjectUrls`` and ``/generateDownloadObjectUrls`` take ``{paths: [{path}],
  subtenantId?}`` and answer ``{objectUrls: [{path, signedUrl}]}``. The signed URL points at the
  storage account, not the gateway: it is called **without** the bearer token, and a plain
  ``http`` URL is refused when the gateway is ``https``.
* ``POST /timeSeriesImportJobs`` ``{name, destination?, subtenantId?, assetIds, aspectNames, from,
  to}`` exports time series into the lake; ``status`` is PENDING, QUEUED, IN_PROGRESS, SUCCESS or
  FAILED; ``GET …/{id}/details`` adds ``progress``, ``fileCount``, ``responseMessage`` once the job
  left PENDING; ``DELETE …/{id}`` removes a finished job. The list only filters on ``subtenantId``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import quote, urlsplit

import requests

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.pagination import Page, iter_items, iter_keyed_pages
from airflow_provider_mdsp.client.paths import json_filter, required, segment
from airflow_provider_mdsp.client.retry import make_retrying
from airflow_provider_mdsp.client.transport import copy_body, translate_request_error
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspResponseError, MdspUnsafeLinkError, api_error
from airflow_provider_mdsp.timeutil import TimeValue, format_time

BASE = "/api/datalake/v3"
#: Import job states after which nothing changes any more (Node SDK data-lake.models.ts ``StatusEnum``).
FINAL_JOB_STATES = frozenset({"SUCCESS", "FAILED"})
#: Largest object a pre-signed URL moves on AWS (Siemens docs, Integrated Data Lake overview).
MAX_OBJECT_BYTES = 5 * 1024**3
#: Bytes per step when streaming a download (memory stays flat whatever the object's size).
CHUNK_BYTES = 1024 * 1024
DEFAULT_PAGE_SIZE = 100


def lake_path(value: Any, *, name: str = "lake_path") -> str:
    """Return a lake object path (``folder/sub/name.ext``) with each segment percent-encoded.

    :param value: the path; a leading ``/`` is ignored.
    :param name: the parameter named in errors.
    :raises MdspConfigError: the path is empty or has an empty segment.
    """
    parts = str(value or "").strip().strip("/").split("/")
    if not parts or any(not p for p in parts):
        raise MdspConfigError(f"{name} must be a path like 'exports/2024/day.json', got {value!r}", field=name)
    return "/".join(quote(p, safe="") for p in parts)


def _plain(path: str) -> str:
    return str(path).strip().strip("/")


class DataLakeClient(ApiClient):
    """Move objects in and out of the Integrated Data Lake, and export time series into it.

    The transport's session also carries the signed-URL calls.
    """

    FINAL_JOB_STATES = FINAL_JOB_STATES

    # --- metadata -------------------------------------------------------------------------------
    def get_object_metadata(self, path: str, *, subtenant_id: str | None = None) -> dict[str, Any]:
        """Return one object's metadata ``{name, path, lastModified, size, tags}``.

        :param path: the object path.
        :param subtenant_id: a tenant addressing its subtenant's object.
        """
        return self.transport.request_json(
            "GET", f"{BASE}/objectMetadata/{lake_path(path)}", params={"subtenantid": subtenant_id}
        )

    def iter_object_pages(
        self,
        folder: str,
        *,
        filter: Mapping[str, Any] | str | None = None,
        subtenant_id: str | None = None,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Page]:
        """Yield pages of the objects under a folder: ``{name, location, lastModified, size, tags}``.

        :param folder: the folder path, e.g. ``exports/2024``.
        :param filter: a metadata filter (sent as given).
        :param subtenant_id: a tenant addressing its subtenant's folder.
        :param size: objects per page.
        """
        params = {"filter": json_filter(filter), "subtenantid": subtenant_id}
        path = f"{BASE}/objectMetadata/{lake_path(folder, name='folder')}"
        return iter_keyed_pages(self.transport, path, "objectMetadata", params=params, size=size)

    def iter_objects(self, folder: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield the objects under a folder; takes the arguments of :meth:`iter_object_pages`."""
        return iter_items(self.iter_object_pages(folder, **kwargs))

    # --- pre-signed URLs ------------------------------------------------------------------------
    def generate_upload_urls(self, paths: Iterable[str], *, subtenant_id: str | None = None) -> list[dict[str, Any]]:
        """Return ``[{path, signedUrl}]`` to upload (PUT) each path; the call only signs, so it is resent safely.

        :param paths: object paths.
        :param subtenant_id: a tenant writing into its subtenant's lake.
        """
        return self._signed_urls("generateUploadObjectUrls", paths, subtenant_id)

    def generate_download_urls(self, paths: Iterable[str], *, subtenant_id: str | None = None) -> list[dict[str, Any]]:
        """Return ``[{path, signedUrl}]`` to download (GET) each path.

        :param paths: object paths.
        :param subtenant_id: a tenant reading its subtenant's lake.
        """
        return self._signed_urls("generateDownloadObjectUrls", paths, subtenant_id)

    def upload_object(self, path: str, stream: IO[bytes], *, subtenant_id: str | None = None) -> dict[str, Any]:
        """Stream a file to a lake path through a pre-signed URL (replaces an object at that path).

        :param path: the object path.
        :param stream: a binary file object; seekable ones are resent after a lost connection.
        :param subtenant_id: a tenant writing into its subtenant's lake.
        :return: ``{"path", "bytes"}``.
        """
        url = self._one_url(self.generate_upload_urls([path], subtenant_id=subtenant_id), path)
        start = _tell(stream)
        size = None
        if start is not None:
            size = stream.seek(0, 2) - start  # the size, known before sending (and checked here)
            stream.seek(start)
            if size > MAX_OBJECT_BYTES:
                message = f"The file has {size} bytes; a Data Lake object holds at most 5 GB"
                raise MdspConfigError(message, field="source")
        response = self._signed_call("PUT", url, data=stream, rewind=start)
        response.close()
        return {"path": _plain(path), "bytes": size}

    def download_object(self, path: str, handle: IO[bytes], *, subtenant_id: str | None = None) -> int:
        """Stream a lake object into ``handle`` through a pre-signed URL; return the bytes written.

        :param path: the object path.
        :param handle: a binary file object to write to.
        :param subtenant_id: a tenant reading its subtenant's lake.
        """
        url = self._one_url(self.generate_download_urls([path], subtenant_id=subtenant_id), path)
        return copy_body(self._signed_call("GET", url, stream=True), handle, url, chunk_size=CHUNK_BYTES)

    def _signed_urls(self, operation: str, paths: Iterable[str], subtenant_id: str | None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"paths": [{"path": _plain(lake_path(p))} for p in paths]}
        if subtenant_id:
            body["subtenantId"] = subtenant_id
        answer = self.transport.request_json("POST", f"{BASE}/{operation}", json=body, idempotent=True)
        return list((answer or {}).get("objectUrls") or [])

    @staticmethod
    def _one_url(urls: list[dict[str, Any]], path: str) -> str:
        for entry in urls:
            if _plain(entry.get("path") or "") == _plain(path) and entry.get("signedUrl"):
                return str(entry["signedUrl"])
        raise MdspResponseError(f"The Data Lake answered no signed URL for {_plain(path)!r}")

    def _signed_call(
        self, method: str, url: str, *, data: Any = None, stream: bool = False, rewind: int | None = None
    ) -> requests.Response:
        """Call a pre-signed storage URL: no bearer token, no redirects, the transport's timeouts and retries."""
        scheme = urlsplit(url).scheme.lower()
        gateway_scheme = urlsplit(self.transport.settings.gateway_url).scheme.lower()
        if scheme not in ("http", "https") or (gateway_scheme == "https" and scheme != "https"):
            raise MdspUnsafeLinkError(
                f"Refusing a signed URL with scheme {scheme!r} (the gateway uses {gateway_scheme})"
            )
        replayable = data is None or rewind is not None
        retrying = make_retrying(self.transport.settings, idempotent=replayable)

        def attempt() -> requests.Response:
            if rewind is not None:
                data.seek(rewind)
            try:
                response = self.transport.session.request(
                    method,
                    url,
                    data=data,
                    stream=stream,
                    allow_redirects=False,
                    timeout=self.transport.settings.timeout,
                )
            except requests.RequestException as exc:
                raise translate_request_error(exc, url) from None
            if response.status_code >= 300:
                text = response.text
                response.close()
                raise api_error(response.status_code, text, response.headers, method=method, url=url)
            return response

        return retrying(attempt) if replayable else attempt()

    # --- time-series import jobs ----------------------------------------------------------------
    def create_import_job(
        self,
        name: str,
        asset_ids: Iterable[str],
        aspect_names: Iterable[str],
        *,
        from_: TimeValue,
        to: TimeValue,
        destination: str | None = None,
        subtenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Start exporting the time series of assets and aspects over ``[from, to]`` into the lake.

        Not idempotent (each POST starts a job), so the transport does not resend it once it may
        have arrived; look the job up by ``name`` (:meth:`find_import_job`) before creating again.

        :param name: the job's name; give a name unique per export to find it again.
        :param asset_ids: asset ids.
        :param aspect_names: aspect names.
        :param from_: start of the window.
        :param to: end of the window.
        :param destination: the lake folder the files go to.
        :param subtenant_id: a tenant exporting into its subtenant's lake.
        """
        body: dict[str, Any] = {
            "name": required(name, name="name"),
            "assetIds": [required(a, name="asset_ids") for a in asset_ids],
            "aspectNames": [required(a, name="aspect_names") for a in aspect_names],
            "from": format_time(from_, name="from_"),
            "to": format_time(to, name="to"),
        }
        if not body["assetIds"] or not body["aspectNames"]:
            raise MdspConfigError("asset_ids and aspect_names must each name at least one", field="asset_ids")
        if destination:
            body["destination"] = _plain(lake_path(destination, name="destination"))
        if subtenant_id:
            body["subtenantId"] = subtenant_id
        return self.transport.request_json("POST", f"{BASE}/timeSeriesImportJobs", json=body)

    def get_import_job(self, job_id: str) -> dict[str, Any]:
        """Return an import job ``{id, name, destinationPath, status, subtenantId}``.

        :param job_id: the job id.
        """
        return self.transport.request_json("GET", self._job_path(job_id))

    def get_import_job_details(self, job_id: str) -> dict[str, Any]:
        """Return an import job with ``progress``, ``fileCount`` and ``responseMessage`` (after PENDING).

        :param job_id: the job id.
        """
        return self.transport.request_json("GET", f"{self._job_path(job_id)}/details")

    def iter_import_jobs(
        self, *, subtenant_id: str | None = None, size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Yield every import job of the tenant (and its subtenants), or of one subtenant.

        :param subtenant_id: only this subtenant's jobs (the one filter the service offers).
        :param size: jobs per page.
        """
        params = {"filter": json_filter({"subtenantId": subtenant_id}) if subtenant_id else None}
        path = f"{BASE}/timeSeriesImportJobs"
        return iter_items(iter_keyed_pages(self.transport, path, "timeSeriesImportJobs", params=params, size=size))

    def find_import_job(self, name: str, *, subtenant_id: str | None = None) -> dict[str, Any] | None:
        """Return the newest-listed job named ``name``, or ``None``: how a retried export finds its job.

        :param name: the job's name.
        :param subtenant_id: only this subtenant's jobs.
        """
        found = None
        for job in self.iter_import_jobs(subtenant_id=subtenant_id):
            if job.get("name") == name:
                found = job
        return found

    def delete_import_job(self, job_id: str) -> None:
        """Delete a finished import job (the exported files stay).

        :param job_id: the job id.
        """
        self._delete(self._job_path(job_id), missing_ok=False)

    @staticmethod
    def _job_path(job_id: str) -> str:
        return f"{BASE}/timeSeriesImportJobs/{segment(job_id, name='job_id')}"


def _tell(stream: Any) -> int | None:
    try:
        return int(stream.tell()) if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None
