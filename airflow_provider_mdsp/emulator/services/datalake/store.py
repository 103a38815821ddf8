"""The Data Lake's objects: a local object store the emulator owns on disk, and pre-signed URLs to it.

Sources: N:sdk/data-lake/data-lake.models.ts (``ObjectMetaDataResponse``, ``SearchResponse``,
``Metadata``: at most 8 tags of at most 128 characters, N:data-lake.ts ``PutObjectMetaData``);
DOC api-integrated-data-lake-overview (pre-signed URLs expire; an object is at most 5 GB on AWS).

Objects are files under a temporary directory of the tenant backend (removed with it), one
partition per owner: the tenant itself, or one of its subtenants. Uploads are streamed to a
temporary sibling and moved into place, so memory stays flat and a half-sent object never appears.

A signed URL is ``/_datalake-storage/{tenant}/{owner}/{path}?X-Method&X-Expires&X-Signature``,
an HMAC over method, tenant, owner, path and expiry with a key of this emulator process.

Not emulated (gaps): the real signed URLs' lifetime (one hour here), S3's multipart upload,
object versions, cross accounts, event subscriptions, STS access tokens, the metadata search
``filter`` (a folder listing returns every object below it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import INVALID_BODY, ApiError, lookup
from ...timefmt import format_ms

MAX_OBJECT_BYTES = 5 * 1024**3
MAX_TAGS = 8
MAX_TAG_CHARS = 128
URL_LIFETIME_S = 3600  # gap: the real lifetime is not documented
TENANT_OWNER = "_tenant"
SIGNING_KEY = secrets.token_bytes(32)


@dataclass
class LakeObject:
    """Metadata of one stored object."""

    path: str
    size: int
    last_modified_ms: int
    tags: list[str] = field(default_factory=list)


def clean_path(path: Any, what: str = "path") -> str:
    """Return a normalised object path, refusing empty segments and ``..``.

    :param path: the path as sent
    :param what: the field named in the error
    :raises ApiError: 400
    """
    parts = str(path or "").strip().strip("/").split("/")
    if not isinstance(path, str) or any(p in ("", ".", "..") for p in parts) or len("/".join(parts)) > 1024:
        raise ApiError(400, f"'{what}' must be an object path like 'folder/name.ext', got {path!r}", INVALID_BODY)
    return "/".join(parts)


def sign(method: str, tenant: str, owner: str, path: str, expires: int) -> str:
    """Return the signature of a storage URL.

    :param method: ``GET`` or ``PUT``
    :param tenant: tenant name
    :param owner: ``_tenant`` or a subtenant id
    :param path: object path
    :param expires: epoch seconds after which the URL is refused
    """
    message = "\n".join((method, tenant, owner, path, str(expires))).encode()
    return hmac.new(SIGNING_KEY, message, hashlib.sha256).hexdigest()


class LakeStore:
    """The objects of one tenant and its subtenants, stored in files.

    :param tenant: tenant name
    :param clock: epoch-seconds clock (the emulator's)
    """

    def __init__(self, tenant: str, clock: Callable[[], float] = time.time) -> None:
        self.tenant = tenant
        self.clock = clock
        self._dir = tempfile.TemporaryDirectory(prefix=f"mdsp-emulator-lake-{tenant}-")
        self.root = Path(self._dir.name)
        self.objects: dict[tuple[str, str], LakeObject] = {}

    def file(self, owner: str, path: str) -> Path:
        """Return the file holding an object (it may not exist).

        :param owner: ``_tenant`` or a subtenant id
        :param path: object path
        """
        return self.root / owner / path

    def get(self, owner: str, path: str) -> LakeObject:
        """Return an object's metadata.

        :param owner: partition
        :param path: object path
        :raises ApiError: 404
        """
        return lookup(self.objects, (owner, path), f"Object '{path}' not found")

    def under(self, owner: str, folder: str) -> list[LakeObject]:
        """Return the objects below a folder, by path.

        :param owner: partition
        :param folder: folder path
        """
        prefix = folder.rstrip("/") + "/"
        return sorted(
            (o for (w, p), o in self.objects.items() if w == owner and p.startswith(prefix)), key=lambda o: o.path
        )

    def signed_url(self, base: str, method: str, owner: str, path: str, now: float | None = None) -> str:
        """Return a pre-signed storage URL for one object.

        :param base: the emulator's base URL
        :param method: ``GET`` or ``PUT``
        :param owner: partition
        :param path: object path
        :param now: epoch seconds (tests)
        """
        expires = int((now or self.clock()) + URL_LIFETIME_S)
        signature = sign(method, self.tenant, owner, path, expires)
        query = f"X-Method={method}&X-Expires={expires}&X-Signature={signature}"
        return f"{base}/_datalake-storage/{self.tenant}/{owner}/{path}?{query}"

    def begin_write(self, owner: str, path: str) -> Path:
        """Return a fresh temporary file next to where the object will live.

        :param owner: partition
        :param path: object path
        """
        target = self.file(owner, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.parent / f".upload-{secrets.token_hex(8)}"

    def commit(self, owner: str, path: str, temp: Path) -> LakeObject:
        """Move an uploaded temporary file into place and record the object (replacing one at that path).

        :param owner: partition
        :param path: object path
        :param temp: the temporary file from :meth:`begin_write`
        """
        target = self.file(owner, path)
        os.replace(temp, target)
        previous = self.objects.get((owner, path))
        obj = LakeObject(path, target.stat().st_size, int(self.clock() * 1000), previous.tags if previous else [])
        self.objects[(owner, path)] = obj
        return obj

    def write_bytes(self, owner: str, path: str, data: bytes) -> LakeObject:
        """Store an object whole (the import jobs' output files).

        :param owner: partition
        :param path: object path
        :param data: content
        """
        temp = self.begin_write(owner, path)
        temp.write_bytes(data)
        return self.commit(owner, path, temp)

    def set_tags(self, owner: str, path: str, body: Any) -> LakeObject:
        """Replace an object's tags (``{"tags": [...]}``, at most 8 of at most 128 characters).

        :param owner: partition
        :param path: object path
        :param body: the request body
        :raises ApiError: 400 for bad tags, 404 for a missing object
        """
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ApiError(400, "'tags' must be a list of strings", INVALID_BODY)
        if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
            raise ApiError(400, f"At most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters", INVALID_BODY)
        obj = self.get(owner, path)
        obj.tags = list(tags)
        return obj


def metadata(obj: LakeObject, owner: str) -> dict[str, Any]:
    """Return an object's ``ObjectMetaDataResponse``.

    :param obj: the object
    :param owner: its partition
    """
    out: dict[str, Any] = {
        "name": obj.path.rsplit("/", 1)[-1],
        "path": obj.path,
        "location": obj.path,
        "lastModified": format_ms(obj.last_modified_ms),
        "size": obj.size,
        "tags": list(obj.tags),
    }
    if owner != TENANT_OWNER:
        out["subtenantId"] = owner
    return out
