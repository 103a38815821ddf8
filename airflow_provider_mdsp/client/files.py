"""IoT File v3: upload (multipart above a part size), download, search and delete files (Node SDK ``sdk/iotfile``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import IO, Any

import requests

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.converge import is_ambiguous
from airflow_provider_mdsp.client.pagination import MAX_FILE_SEARCH_LIMIT, Page, iter_items, iter_offset_pages
from airflow_provider_mdsp.client.paths import file_path as encode_file_path
from airflow_provider_mdsp.client.paths import segment
from airflow_provider_mdsp.client.transport import copy_body
from airflow_provider_mdsp.exceptions import (
    MdspApiError,
    MdspConfigError,
    MdspConflictError,
    MdspError,
)
from airflow_provider_mdsp.timeutil import TimeValue, format_time

log = logging.getLogger(__name__)

BASE = "/api/iotfile/v3"
MIB = 1024 * 1024
#: Part size of multipart uploads; the Node SDK uses 8 MB chunks (Node SDK ``sdk/common/multipart-uploader.ts``).
#: Files up to this size go in one PUT. The gateway cuts requests at 60 s with a 502 (Siemens docs, IoT File
#: overview), so a part must
#: upload within that time even on a slow link.
DEFAULT_PART_SIZE = 8 * MIB
#: Each part but the last must be at least 5 MB (Siemens docs, IoT File multipart).
MIN_PART_SIZE = 5 * MIB
#: Part numbers run from 1 to 1000 (Siemens docs, IoT File multipart).
MAX_PARTS = 1000
#: Bytes written per step when streaming a download.
DOWNLOAD_CHUNK_SIZE = 1 * MIB
#: Results per page of a file search: the service's maximum (IoT File OpenAPI spec 3.2.4).
DEFAULT_SEARCH_LIMIT = MAX_FILE_SEARCH_LIMIT
#: A file path under an asset has at most 100 characters (IoT File OpenAPI spec 3.2.4).
MAX_PATH_LENGTH = 100

Reader = Callable[[int], bytes]
Data = bytes | bytearray | memoryview | IO[bytes]
ByteRange = str | tuple[int, int | None]


def make_reader(data: Data) -> Reader:
    """Return ``read(n)`` over bytes or a binary file object that gives exactly ``n`` bytes until EOF.

    :param data: bytes, or a file object opened in binary mode.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        view, position = memoryview(data).cast("B"), 0

        def read_view(n: int) -> bytes:
            nonlocal position
            chunk = bytes(view[position : position + n])
            position += len(chunk)
            return chunk

        return read_view
    if not hasattr(data, "read"):
        raise MdspConfigError("data must be bytes or a binary file object", field="data")

    def read_stream(n: int) -> bytes:
        # Raw streams and pipes may return fewer bytes than asked before EOF; collect until full.
        chunks, got = [], 0
        while got < n:
            chunk = data.read(n - got)
            if isinstance(chunk, str):
                raise MdspConfigError("data is a text file; open it with mode 'rb'", field="data")
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    return read_stream


def range_header(byte_range: ByteRange) -> str:
    """Render a ``Range`` header: ``(200, 600)`` or ``"200-600"`` become ``bytes=200-600`` (Node SDK
    ``sdk/iotfile``)."""
    if isinstance(byte_range, tuple):
        start, end = byte_range
        return f"bytes={int(start)}-{'' if end is None else int(end)}"
    text = str(byte_range).strip()
    return text if text.startswith("bytes=") else f"bytes={text}"


def _drain(read: Reader, part_size: int) -> int:
    """Read a source to its end in parts, keeping nothing, and return how many bytes it held."""
    total = 0
    while chunk := read(part_size):
        total += len(chunk)
    return total


def exact_file_filter(file_path: str) -> str | None:
    """Return the IoT File search filter for one file: ``name eq '<name>' and path eq '<dir>/'``.

    Values are quoted as in the service's examples (Siemens docs, IoT File filtering). A name
    or folder holding a quote cannot be quoted; that term is left out, and since the service
    ignores a filter it cannot read (Siemens docs, IoT File filtering) the caller must check each result's path anyway.

    :param file_path: the normalised remote path.
    """
    directory, _, name = file_path.rpartition("/")
    terms = [f"name eq '{name}'"] if "'" not in name else []
    if directory and "'" not in directory:
        terms.append(f"path eq '{directory}/'")
    return " and ".join(terms) or None


def _etag(response: requests.Response) -> str | None:
    value = response.headers.get("ETag")
    if not value:
        return None
    value = value.strip()
    value = value[2:] if value.startswith("W/") else value
    return value.strip('"')


class FilesClient(ApiClient):
    """Upload, download, search and delete files attached to assets (IoT File v3)."""

    def put_file(
        self,
        entity_id: str,
        file_path: str,
        data: Data,
        *,
        content_type: str = "application/octet-stream",
        description: str | None = None,
        timestamp: TimeValue | None = None,
        etag: str | int | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> dict[str, Any]:
        """Upload a file, in parts when it is larger than ``part_size``, and return what was stored.

        Up to ``part_size`` bytes go in one PUT. Above, the multipart protocol is used (Siemens docs, IoT File
        multipart):
        ``?upload=start``, ``?part=1..N-1`` with each part read from ``data`` only when it is sent
        (never the whole file in memory), then the last part, which may be smaller than the
        5 MB minimum, with ``?upload=complete`` (the service refuses a short ``?part=N``; the Node
        SDK sends its last part the same way). After any failure ``?upload=abort`` is sent and the
        error raised.

        :param entity_id: the asset id.
        :param file_path: path under the asset, e.g. ``reports/2024-05-01.csv``.
        :param data: bytes or a binary file object.
        :param content_type: MIME type stored with the file (sent as the ``type`` header).
        :param description: free text stored with the file.
        :param timestamp: the file's own time; defaults to the upload time on the service.
        :param etag: the version to replace (``If-Match``); ``None`` to create a new file.
        :param part_size: bytes per part, at least :data:`MIN_PART_SIZE`.
        :return: ``{"entityId", "path", "size", "etag", "parts"}``; ``parts`` is 1 for a single PUT.
        """
        if part_size < MIN_PART_SIZE:
            raise MdspConfigError(
                f"part_size must be at least {MIN_PART_SIZE} bytes (5 MB, the service's minimum part size)",
                field="part_size",
            )
        if len(str(file_path).strip().lstrip("/")) > MAX_PATH_LENGTH:
            raise MdspConfigError(
                f"file_path has {len(str(file_path).strip().lstrip('/'))} characters; IoT File allows at most "
                f"{MAX_PATH_LENGTH}. Use a shorter path",
                field="file_path",
            )
        path = self._path(entity_id, file_path)
        headers = {"Content-Type": "application/octet-stream", "type": content_type}
        if description is not None:
            headers["description"] = description
        if timestamp is not None:
            headers["timestamp"] = format_time(timestamp, name="timestamp")
        if etag is not None:
            headers["If-Match"] = str(etag)
        read = make_reader(data)
        # Read one part and peek one byte: a file of exactly part_size bytes still goes in one PUT.
        head = [read(part_size)]
        head.append(read(1) if len(head[0]) == part_size else b"")
        target = (entity_id, file_path, None if etag is None else str(etag))
        if not head[1]:
            new_etag, size, parts = self._single(target, path, head[0], headers), len(head[0]), 1
        else:
            new_etag, size, parts = self._multipart(target, path, headers, head, read, part_size)
        stored = str(file_path).strip().lstrip("/")
        return {"entityId": entity_id, "path": stored, "size": size, "etag": new_etag, "parts": parts}

    def _single(self, target: tuple[str, str, str | None], path: str, body: bytes, headers: dict[str, str]) -> Any:
        """One PUT; when its answer was lost and the resend meets the stored file, that file is the result.

        The transport resends a PUT after a lost answer; the resend then finds the file already
        written (409 without ``If-Match``, 409/412 for the old ``If-Match``), and so does an Airflow
        retry of the task. A stored file of the same size and the same bytes is this upload.
        """
        try:
            return _etag(self.transport.request("PUT", path, data=body, headers=headers))
        except MdspConflictError:
            found = self._converged(target, len(body), body)
            if found is None:
                raise
            return found

    def _converged(self, target: tuple[str, str, str | None], size: int, prefix: bytes | None) -> Any:
        """Return the etag of the stored file if it is what this upload wrote, else ``None``.

        It is when it has the size uploaded, a version other than the one replaced, and (when
        ``prefix`` is given) begins with these bytes. IoT File offers no checksum, so the
        bytes are compared with a ranged GET.
        """
        entity_id, file_path, replaced = target
        meta = self.find_file(entity_id, file_path)
        if meta is None or meta.get("size") != size or str(meta.get("etag")) == replaced:
            return None
        if prefix and self.get_file(entity_id, file_path, byte_range=(0, len(prefix) - 1)) != prefix:
            return None
        log.info("%s on %s is already stored as uploaded (an earlier answer was lost)", file_path, entity_id)
        return None if meta.get("etag") is None else str(meta["etag"])

    def find_file(self, entity_id: str, file_path: str) -> dict[str, Any] | None:
        """Return the metadata of one file (``size``, ``etag`` …), or ``None`` if there is none.

        :param entity_id: the asset id.
        :param file_path: path under the asset.
        """
        wanted = "/".join(p for p in str(file_path).strip().split("/") if p)
        for item in self.iter_files(entity_id, filter=exact_file_filter(wanted)):
            stored = "/".join(p for p in f"{item.get('path') or ''}/{item.get('name') or ''}".split("/") if p)
            if stored == wanted:
                return item
        return None

    def _multipart(
        self,
        target: tuple[str, str, str | None],
        path: str,
        headers: dict[str, str],
        head: list[bytes],
        read: Reader,
        part_size: int,
    ) -> tuple[Any, int, int]:
        """Run start, parts and complete (carrying the last part); abort on any failure; converge
        when an answer was lost.

        ``head`` is ``[part 1, peeked byte]``; it is emptied once read, so that only one part is
        referenced at a time. One byte is peeked after each part to know whether it is the last.
        """
        try:
            self.transport.request("PUT", path, params={"upload": "start"}, headers=headers)
        except MdspConflictError:
            # An earlier try (whose answer was lost) may have stored this very file: count the
            # rest of the source and compare size and first part before failing.
            size = len(head[0]) + len(head[1]) + _drain(read, part_size)
            found = self._converged(target, size, head[0])
            if found is None:
                raise
            return found, size, -(-size // part_size)
        size = number = 0
        try:
            part, peek = head
            head.clear()
            while True:
                number += 1
                if number > MAX_PARTS:
                    raise MdspConfigError(
                        f"The file needs more than {MAX_PARTS} parts of {part_size} bytes; raise part_size",
                        field="part_size",
                    )
                size += len(part)
                if not peek:
                    return self._complete(target, path, headers, part, size), size, number
                self.transport.request("PUT", path, params={"part": number}, data=part, headers=headers)
                # Drop each part before reading the next, so one part at a time is in memory.
                part = b""
                part = peek + read(part_size - 1)
                peek = read(1) if len(part) == part_size else b""
        except BaseException:
            self._abort(path, headers)
            raise

    def _complete(
        self, target: tuple[str, str, str | None], path: str, headers: dict[str, str], last: bytes, size: int
    ) -> Any:
        """Send ``?upload=complete`` with the last part; if its answer was lost, the finished file is the result.

        The resend of a completion that happened finds no upload in progress (404); a completion
        cut off at the gateway (502/504) or by the network may have happened too.
        """
        try:
            response = self.transport.request("PUT", path, params={"upload": "complete"}, data=last, headers=headers)
            return _etag(response)
        except MdspError as exc:
            lost = is_ambiguous(exc) or (isinstance(exc, MdspApiError) and exc.status == 404)
            found = self._converged(target, size, None) if lost else None
            if found is None:
                raise
            return found

    def _abort(self, path: str, headers: dict[str, str]) -> None:
        try:
            self.transport.request("PUT", path, params={"upload": "abort"}, headers=headers)
        except MdspError as exc:
            # The upload already failed; its parts expire after 2 days anyway (Siemens docs, IoT File
            # multipart). Keep the first error.
            log.warning("Could not abort the multipart upload of %s: %s", path, exc)

    def download_file(
        self, entity_id: str, file_path: str, dest: IO[bytes], *, byte_range: ByteRange | None = None
    ) -> int:
        """Stream a file into a binary file object, chunk by chunk, and return the bytes written.

        :param entity_id: the asset id.
        :param file_path: path under the asset.
        :param dest: an object with ``write(bytes)``, e.g. a file opened with ``"wb"``.
        :param byte_range: only these bytes, e.g. ``(200, 600)`` or ``"bytes=200-600"``.
        """
        url = self.transport.url_for(self._path(entity_id, file_path))
        response = self.transport.request("GET", url, headers=self._get_headers(byte_range), stream=True)
        return copy_body(response, dest, url, chunk_size=DOWNLOAD_CHUNK_SIZE)

    def get_file(self, entity_id: str, file_path: str, *, byte_range: ByteRange | None = None) -> bytes:
        """Return a file's content (or a byte range of it) as bytes; for large files use :meth:`download_file`.

        :param entity_id: the asset id.
        :param file_path: path under the asset.
        :param byte_range: only these bytes, e.g. ``(0, 1023)``.
        """
        path = self._path(entity_id, file_path)
        return self.transport.request("GET", path, headers=self._get_headers(byte_range)).content

    def iter_file_pages(
        self,
        entity_id: str,
        *,
        filter: str | None = None,
        order: str | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
        stop_at_offset_cap: bool = False,
    ) -> Iterator[Page]:
        """Yield pages of file metadata of an asset.

        :param entity_id: the asset id.
        :param filter: e.g. ``name eq 'report*.csv' and path eq 'daily/'`` (operators eq, gt, gte, lt,
            lte; ``*`` wildcard; ``and`` only; Siemens docs, IoT File filtering).
        :param order: one field, e.g. ``updated desc``.
        :param limit: results per page (at most 200; the service may answer fewer, and paging goes
            on to the total count or an empty page either way).
        :param stop_at_offset_cap: end at the service's ``offset`` cap (10,000) instead of raising.
        """
        path = f"{BASE}/files/{segment(entity_id, name='entity_id')}"
        params = {"filter": filter, "order": order}
        return iter_offset_pages(
            self.transport, path, params=params, limit=limit, stop_at_offset_cap=stop_at_offset_cap
        )

    def iter_files(self, entity_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield file metadata one by one; takes the arguments of :meth:`iter_file_pages`."""
        return iter_items(self.iter_file_pages(entity_id, **kwargs))

    def delete_file(
        self, entity_id: str, file_path: str, *, missing_ok: bool = False, if_match: str | int | None = None
    ) -> bool:
        """Delete a file, whatever its version: IoT File's DELETE takes no ``If-Match`` (IoT File OpenAPI spec 3.2.4).

        :param entity_id: the asset id.
        :param file_path: path under the asset.
        :param missing_ok: a file that is not there (404) counts as deleted: a retried or repeated
            clean-up converges instead of failing.
        :param if_match: sent as ``If-Match`` only when given; the published API names none (see
            :data:`~airflow_provider_mdsp.client.file_retention.DELETE_SENDS_IF_MATCH`).
        :return: ``True`` when this call deleted the file, ``False`` when it was already gone.
        """
        headers = None if if_match is None else {"If-Match": str(if_match)}
        return self._delete(self._path(entity_id, file_path), missing_ok=missing_ok, headers=headers)

    def delete_older_files(self, entity_id: str, **kwargs: Any) -> dict[str, Any]:
        """Delete an asset's files under a folder last updated before a time (retention clean-up).

        Takes the arguments of :func:`~airflow_provider_mdsp.client.file_retention.delete_older_files`
        (``before``, ``folder``, ``name``, ``max_files``, ``verify_unchanged``, ``dry_run``).

        :param entity_id: the asset id.
        """
        from airflow_provider_mdsp.client.file_retention import delete_older_files

        return delete_older_files(self, entity_id, **kwargs)

    @staticmethod
    def _get_headers(byte_range: ByteRange | None) -> dict[str, str]:
        headers = {"Accept": "*/*"}
        if byte_range is not None:
            headers["Range"] = range_header(byte_range)
        return headers

    @staticmethod
    def _path(entity_id: str, file_path: str) -> str:
        return f"{BASE}/files/{segment(entity_id, name='entity_id')}/{encode_file_path(file_path)}"
