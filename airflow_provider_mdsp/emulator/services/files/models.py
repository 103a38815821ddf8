"""IoT File v3 (§7): files per entity, search, multipart uploads. Rules and state, no HTTP.

The etag is a number that starts at 0 and counts up by one per write (as the Node SDK
assumes). A file's ``path`` is its directory with a trailing ``/`` (``""`` at the top level),
so ``path + name`` is the full path.

Rules (insights-hub-api.md §0): a file path has at most 100 characters; every multipart part
sent with ``?part=N`` has at least the minimum part size (5 MB), and only the request that
completes the upload may carry a smaller, final part (DOC api-iotfile-references-multipart:
"the complete request accepts a file part that is smaller than the minimum allowed part size
and treats it as the final part"; N:sdk/common/multipart-uploader.ts ``UploadChunk`` sends its
last part that way). A search filter the service cannot read is ignored (see :mod:`.search`).

Gap choices: a PUT over an existing file without ``If-Match`` answers 409
(``EXISTS_WITHOUT_IF_MATCH_STATUS``); a stale one the configured ``stale_etag_status``.
Not emulated: entity existence checks, the 1-minute gateway timeout (502), removal of
unfinished uploads after 2 days, ``createdBy`` other than the calling client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import ApiError, check_if_match, lookup
from ...timefmt import TimeFormatError, format_ms, now_ms, parse_iso
from .search import parse_filter

EXISTS_WITHOUT_IF_MATCH_STATUS = 409
MAX_PART_NUMBER = 1000
#: File paths have at most 100 characters (§0, the IoT File OpenAPI spec 3.2.4).
MAX_PATH_LENGTH = 100
ORDER_FIELDS = ("name", "path", "updated", "created", "size", "timestamp")


@dataclass
class StoredFile:
    """One file and its metadata."""

    data: bytes
    meta: dict[str, Any]


@dataclass
class Upload:
    """An unfinished multipart upload."""

    parts: dict[int, tuple[bytes, str]] = field(default_factory=dict)
    if_match: str | None = None


def split_path(filepath: str) -> tuple[str, str]:
    """Split ``a/b/c.txt`` into (``a/b/``, ``c.txt``).

    :param filepath: full path inside the entity
    """
    directory, _, name = filepath.rpartition("/")
    return (directory + "/" if directory else ""), name


class FileBackend:
    """Files of one tenant, keyed by (entity id, full path).

    :param stale_status: status for a stale ``If-Match``
    :param min_part_bytes: minimum size of every multipart part but the last
    :param clock: epoch-ms clock
    """

    def __init__(self, stale_status: int, min_part_bytes: int, clock: Callable[[], int] = now_ms) -> None:
        self.stale_status = stale_status
        self.min_part_bytes = min_part_bytes
        self._clock = clock
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.uploads: dict[tuple[str, str], Upload] = {}

    def put(
        self, entity: str, filepath: str, data: bytes, headers: dict[str, str | None], user: str
    ) -> tuple[dict[str, Any], bool]:
        """Create or overwrite a file; return its metadata and whether it was created.

        :param entity: entity (asset) id
        :param filepath: full path
        :param data: content
        :param headers: ``type``, ``description``, ``timestamp`` and normalised ``if-match``
        :param user: the caller, recorded in ``createdBy``/``updatedBy``
        """
        check_path(filepath)
        existing = self.files.get((entity, filepath))
        self._check_write(existing, headers.get("if-match"), filepath)
        now = format_ms(self._clock())
        directory, name = split_path(filepath)
        if not name:
            raise ApiError(400, f"File path '{filepath}' must end with a file name")
        timestamp = headers.get("timestamp")
        meta = {
            "name": name,
            "path": directory,
            "type": headers.get("type") or "application/octet-stream",
            "size": len(data),
            "timestamp": _iso(timestamp) if timestamp else now,
            "created": existing.meta["created"] if existing else now,
            "updated": now,
            "createdBy": existing.meta["createdBy"] if existing else user,
            "updatedBy": user,
            "description": headers.get("description") or (existing.meta["description"] if existing else ""),
            "etag": existing.meta["etag"] + 1 if existing else 0,
        }
        self.files[(entity, filepath)] = StoredFile(data, meta)
        return meta, existing is None

    def _check_write(self, existing: StoredFile | None, if_match: str | None, filepath: str) -> None:
        if existing is None:
            return
        if if_match is None:
            raise ApiError(
                EXISTS_WITHOUT_IF_MATCH_STATUS, f"File '{filepath}' exists; send If-Match with its etag to update it"
            )
        check_if_match(str(existing.meta["etag"]), if_match, self.stale_status, f"file '{filepath}'")

    def get(self, entity: str, filepath: str) -> StoredFile:
        """Return a file.

        :param entity: entity id
        :param filepath: full path
        :raises ApiError: 404
        """
        return lookup(self.files, (entity, filepath), f"File '{filepath}' not found for entity {entity}")

    def delete(self, entity: str, filepath: str) -> None:
        """Delete a file.

        :param entity: entity id
        :param filepath: full path
        """
        self.get(entity, filepath)
        del self.files[(entity, filepath)]

    def search(self, entity: str, filter_text: str | None, order: str | None) -> list[dict[str, Any]]:
        """Return the metadata of an entity's files matching a filter, ordered.

        :param entity: entity id
        :param filter_text: e.g. ``name eq 'xyz*.txt' and path eq 'unit/test/'``; one the service
            cannot read is ignored (every file matches)
        :param order: e.g. ``name asc`` or ``updated desc``
        """
        tests = parse_filter(filter_text) or []
        found = [f.meta for (e, _), f in self.files.items() if e == entity and all(t(f.meta) for t in tests)]
        key, desc = "name", False
        if order:
            key, _, direction = order.replace(",", " ").strip().partition(" ")
            if key not in ORDER_FIELDS or direction.strip().lower() not in ("", "asc", "desc"):
                raise ApiError(400, f"order must be one of {ORDER_FIELDS} with asc/desc, got {order!r}")
            desc = direction.strip().lower() == "desc"
        return sorted(found, key=lambda m: (m[key], m["path"], m["name"]), reverse=desc)

    # -- multipart ------------------------------------------------------------------------
    def start_upload(self, entity: str, filepath: str, if_match: str | None) -> None:
        """Begin a multipart upload (``?upload=start``).

        :param entity: entity id
        :param filepath: full path
        :param if_match: etag when the upload replaces an existing file
        """
        check_path(filepath)
        self._check_write(self.files.get((entity, filepath)), if_match, filepath)
        self.uploads[(entity, filepath)] = Upload(if_match=if_match)

    def put_part(self, entity: str, filepath: str, part: int, data: bytes, final: bool = False) -> None:
        """Store one part (a reused number overwrites).

        :param entity: entity id
        :param filepath: full path
        :param part: part number 1..1000
        :param data: part content
        :param final: the part comes with ``?upload=complete`` and may be smaller than the minimum
        :raises ApiError: 400 for a number out of range or a short part sent with ``?part=N``
        """
        upload = self._upload(entity, filepath)
        if not 1 <= part <= MAX_PART_NUMBER:
            raise ApiError(400, f"part must be 1..{MAX_PART_NUMBER}, got {part}")
        if not final and len(data) < self.min_part_bytes:
            raise ApiError(
                400,
                f"Part {part} has {len(data)} bytes, less than the minimum part size of {self.min_part_bytes}; "
                "send the last, smaller part with ?upload=complete",
            )
        upload.parts[part] = (data, format_ms(self._clock()))

    def next_part(self, entity: str, filepath: str) -> int:
        """Return the number after the highest part stored so far.

        :param entity: entity id
        :param filepath: full path
        """
        return max(self._upload(entity, filepath).parts, default=0) + 1

    def complete(
        self, entity: str, filepath: str, headers: dict[str, str | None], user: str
    ) -> tuple[dict[str, Any], bool]:
        """Assemble the parts into the file (``?upload=complete``).

        :param entity: entity id
        :param filepath: full path
        :param headers: file metadata headers (see :meth:`put`)
        :param user: the caller
        :raises ApiError: 400 when parts are missing, not consecutive, or too small
        """
        upload = self._upload(entity, filepath)
        numbers = sorted(upload.parts)
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise ApiError(400, f"Parts must be consecutive from 1; got {numbers}")
        for n in numbers[:-1]:
            if len(upload.parts[n][0]) < self.min_part_bytes:
                raise ApiError(400, f"Part {n} is smaller than {self.min_part_bytes} bytes (only the last may be)")
        data = b"".join(upload.parts[n][0] for n in numbers)
        final = {**headers, "if-match": headers.get("if-match") or upload.if_match}
        result = self.put(entity, filepath, data, final, user)
        del self.uploads[(entity, filepath)]
        return result

    def abort(self, entity: str, filepath: str) -> None:
        """Drop an unfinished upload (``?upload=abort``).

        :param entity: entity id
        :param filepath: full path
        """
        self._upload(entity, filepath)
        del self.uploads[(entity, filepath)]

    def list_parts(self, entity: str, filepath: str) -> list[dict[str, Any]]:
        """List the parts of an unfinished upload (``GET /fileslist/...``).

        :param entity: entity id
        :param filepath: full path
        """
        upload = self._upload(entity, filepath)
        return [
            {"objectKey": f"{entity}/{filepath}", "partNo": n, "created": upload.parts[n][1]}
            for n in sorted(upload.parts)
        ]

    def _upload(self, entity: str, filepath: str) -> Upload:
        return lookup(self.uploads, (entity, filepath), f"No multipart upload in progress for '{filepath}'")


def check_path(filepath: str) -> None:
    """Refuse a file path longer than :data:`MAX_PATH_LENGTH` characters.

    :param filepath: full path inside the entity
    :raises ApiError: 400 naming the limit
    """
    if len(filepath) > MAX_PATH_LENGTH:
        raise ApiError(400, f"File path has {len(filepath)} characters; at most {MAX_PATH_LENGTH} are allowed")


def _iso(value: str) -> str:
    try:
        return format_ms(parse_iso(value))
    except TimeFormatError as exc:
        raise ApiError(400, f"Header 'timestamp' is not ISO 8601: {value!r}") from exc
