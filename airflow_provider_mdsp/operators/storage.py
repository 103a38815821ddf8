"""Output files that appear whole or not at all, and leave nothing behind.

Two ways to write, chosen by the store:

- **S3** (through s3fs, as Airflow's Amazon provider sets it up): the records go straight to the
  final key. S3 shows an object only when
  its single ``PUT`` or its multipart upload completes, so readers never see part of it; on an error
  the multipart upload is aborted. A writer killed outright cannot abort its upload, so the next
  writer of the same key aborts the incomplete uploads left for that key first. No temporary object,
  no server-side copy (a small output costs two requests: the listing and the ``PUT``).
- **File systems** (local disks, NFS): a hidden temporary sibling, made durable (``fsync``) and
  moved into place with ``os.replace`` once complete. While it writes, the writer holds an
  exclusive ``flock`` on its temporary file; the next writer of the same output removes every
  temporary of that output whose lock it can take, i.e. whose writer has died.
- **Other stores** (GCS, Azure, …): a hidden temporary sibling moved with the store's ``mv``,
  removed on any error; one left by a killed writer stays until a lifecycle rule removes it.

A failed clean-up never hides the error that caused it: it is logged and the original error is
raised. ``s3://bucket/key`` without ``conn_id@`` uses the documented default connection
``aws_default``, or fails saying how to name one (Airflow would otherwise fall back silently to
whatever AWS credentials the worker happens to have).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no stale-temp detection
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

__all__ = ["DEFAULT_CONNECTIONS", "atomic_output", "storage_path", "temp_prefix"]

log = logging.getLogger(__name__)

#: Connection used for a path of these protocols that names none (``s3://bucket/key``): the
#: default connection id of the Amazon provider.
DEFAULT_CONNECTIONS = {"s3": "aws_default", "s3a": "aws_default"}

_LOCAL_PROTOCOLS = ("", "file", "local")

#: Block size of direct object-store writes; ``None`` keeps the store's default (s3fs: 50 MiB,
#: the part size of its multipart uploads; smaller outputs are sent in one ``PUT``).
OBJECT_STORE_BLOCK_BYTES: int | None = None


def storage_path(value: str | ObjectStoragePath, *, field: str = "output_path") -> ObjectStoragePath:
    """Turn a URI or path into an ``ObjectStoragePath``, naming the default connection where needed.

    :param value: ``file:///…``, ``s3://conn_id@bucket/key``, a local path, or a path object.
    :param field: the parameter the value came from, for messages.
    :raises MdspConfigError: an ``s3://`` path names no connection and ``aws_default`` does not exist.
    """
    from airflow.sdk import ObjectStoragePath

    path = value if isinstance(value, ObjectStoragePath) else ObjectStoragePath(str(value).strip())
    default = DEFAULT_CONNECTIONS.get(path.protocol)
    if default is None or _conn_id_of(path):
        return path
    if not _connection_exists(default):
        bucket_key = str(path).split("://", 1)[1]
        raise MdspConfigError(
            f"{field} {str(path)!r} names no Airflow connection, and the default connection {default!r} does "
            f"not exist. Name the connection in the path, '{path.protocol}://<conn_id>@{bucket_key}', or "
            f"create a connection {default!r}.",
            field=field,
        )
    return ObjectStoragePath(str(path), conn_id=default)


def _conn_id_of(path: ObjectStoragePath) -> str | None:
    try:
        return path.conn_id
    except AttributeError:  # Airflow 3.1 keeps it among the storage options
        return (getattr(path, "storage_options", None) or {}).get("conn_id")


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException; its import path differs between Airflow versions
        return False
    return True


def temp_prefix(name: str) -> str:
    """Return the name prefix of the temporary files of an output called ``name``."""
    return f".{name}.tmp-"


class atomic_output:
    """Open ``target`` for binary writing so that it appears complete or not at all (see the module doc).

    ``size`` holds the bytes written once the block has ended without error.

    :param target: the final path.
    """

    def __init__(self, target: ObjectStoragePath) -> None:
        self.target = target
        self.temp: ObjectStoragePath | None = None
        self.size = 0
        self._handle: Any = None
        self._direct = False

    def __enter__(self) -> IO[bytes]:
        target = self.target
        if target.protocol in _LOCAL_PROTOCOLS:
            self._handle = self._open_local_temp()
            return self._handle
        fs = target.fs
        if _is_s3(fs):
            _abort_stale_uploads(target)
            options = {} if OBJECT_STORE_BLOCK_BYTES is None else {"block_size": OBJECT_STORE_BLOCK_BYTES}
            self._direct, self._handle = True, fs.open(target.path, "wb", **options)
            return self._handle
        self.temp = target.parent / f"{temp_prefix(target.name)}{uuid.uuid4().hex}"
        self._handle = self.temp.open("wb")
        return self._handle

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self.size = int(self._handle.tell())
            if self.target.protocol in _LOCAL_PROTOCOLS:
                self._replace_local()
            else:
                self._handle.close()  # direct: completes the upload; else: finishes the temporary
                if self.temp is not None:
                    self.temp.fs.mv(self.temp.path, self.target.path)
                    self.temp = None
        except BaseException:
            self._discard()
            raise

    def _open_local_temp(self) -> IO[bytes]:
        directory = os.path.dirname(self.target.path) or "."
        os.makedirs(directory, exist_ok=True)
        remove_stale_temps(directory, self.target.name)
        path = os.path.join(directory, f"{temp_prefix(self.target.name)}{uuid.uuid4().hex}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed: tells the next writer this one lives
        self.temp = self.target.parent / os.path.basename(path)
        return os.fdopen(fd, "wb")

    def _replace_local(self) -> None:
        """Make the temporary durable, move it into place, and only then close it (and so unlock it).

        Renaming while the lock is held means no other writer can take the file for stale meanwhile.
        """
        assert self.temp is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())  # after a power loss: the old file or the whole new one
        os.replace(self.temp.path, self.target.path)
        self.temp = None
        self._handle.close()

    def _discard(self) -> None:
        """Throw away what was written; log, never raise, when that fails (the caller's error matters)."""
        handle, self._handle = self._handle, None
        try:
            if self._direct and handle is not None:
                handle.discard()  # aborts the multipart upload, if one was started
                handle.closed = True  # closing now would upload the buffer: the very thing to avoid
            elif handle is not None:
                _close_quietly(handle)
            if self.temp is not None:
                self.temp.fs.rm(self.temp.path)
        except Exception as cleanup:
            log.warning("Could not clean up the unfinished output %s: %s", self.target, cleanup)


def _is_s3(fs: Any) -> bool:
    """Tell whether ``fs`` is an s3fs file system (its files upload on close and abort on ``discard``)."""
    return all(hasattr(fs, name) for name in ("call_s3", "abort_mpu", "split_path"))


def _close_quietly(handle: Any) -> None:
    with contextlib.suppress(Exception):
        handle.close()


def remove_stale_temps(directory: str, name: str) -> list[str]:
    """Remove the temporary files of output ``name`` in ``directory`` whose writer has died.

    A live writer holds an exclusive ``flock`` on its temporary file; one whose lock can be taken
    was left by a killed process. Returns the names removed.

    :param directory: the output's directory.
    :param name: the output's file name.
    """
    if fcntl is None:
        return []
    prefix, removed = temp_prefix(name), []
    try:
        candidates = [entry for entry in os.listdir(directory) if entry.startswith(prefix)]
    except OSError:
        return []
    for entry in candidates:
        path = os.path.join(directory, entry)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(path)
            removed.append(entry)
        except OSError:
            continue  # a live writer holds it (or it is already gone)
        finally:
            os.close(fd)
    if removed:
        log.info("Removed %d temporary file(s) a killed writer left for %s: %s", len(removed), name, removed)
    return removed


def _abort_stale_uploads(target: ObjectStoragePath) -> None:
    """Abort the incomplete S3 multipart uploads of ``target``'s key (left by a killed writer).

    A concurrent writer of the same key loses its upload: the newest writer wins.
    """
    fs = target.fs
    bucket, key, _ = fs.split_path(target.path)
    try:
        listing = fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=key)
    except Exception as exc:  # a prefix the role may only write to: nothing to clean, go on writing
        log.debug("Could not list the incomplete uploads of %s: %s", target, exc)
        return
    for upload in listing.get("Uploads") or ():
        if upload.get("Key") != key:
            continue
        try:
            fs.abort_mpu(bucket, key, upload["UploadId"])
            log.info("Aborted an incomplete upload a killed writer left for %s", target)
        except Exception as exc:
            log.warning("Could not abort the incomplete upload %s of %s: %s", upload.get("UploadId"), target, exc)
