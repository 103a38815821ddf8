"""Retention clean-up of IoT File v3: delete an asset's files under a folder that were last updated before a cut-off.

Published facts this module relies on:

* ``DELETE /files/{entityId}/{filepath}`` deletes one file (Node SDK ``sdk/iotfile/iot-file.ts``
  ``DeleteFile``); it takes no ``If-Match`` (IoT File OpenAPI spec 3.2.4 names none, and the Node
  SDK sends none), so :data:`DELETE_SENDS_IF_MATCH` is ``False``.
* The file search (``GET /files/{entityId}?filter&offset&limit&order``) filters on ``name``,
  ``path`` and ``updated`` with ``eq``/``lt`` …, ``*`` as a wildcard and ``and`` only, and *ignores*
  a filter it cannot read, answering every file (Siemens docs, IoT File filtering). So the filter
  only narrows the search: every file it returns is checked again here before it is deleted.

Deleting while paging by ``offset`` would shift the pages under the reader and skip files, so the
files to delete are selected first (at most ``max_files``, oldest first), then deleted. A file
already gone when its DELETE arrives (404: an earlier try whose reply was lost, an Airflow retry, a
concurrent clean-up) counts as deleted, so a retried or re-run clean-up converges.

Because the service has no conditional DELETE, a file rewritten between the search and its DELETE
would be deleted although it is new again. With ``verify_unchanged`` each file's metadata is read
again just before its DELETE and the file is kept when its ``etag`` moved (one more request per file).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp import timeutil
from airflow_provider_mdsp.client.pagination import MAX_FILE_SEARCH_OFFSET
from airflow_provider_mdsp.exceptions import MdspConfigError

if TYPE_CHECKING:
    from airflow_provider_mdsp.client.files import FilesClient

log = logging.getLogger(__name__)

#: IoT File's DELETE takes no ``If-Match`` (IoT File OpenAPI spec 3.2.4; Node SDK ``DeleteFile``).
#: Were it ever accepted, setting this sends the selected file's etag instead of re-reading it.
DELETE_SENDS_IF_MATCH = False
#: Files one clean-up deletes at most unless told otherwise; the rest wait for the next run.
DEFAULT_MAX_FILES = 500
#: Search order: oldest first, so a clean-up cut at ``max_files`` deletes the oldest files.
OLDEST_FIRST = "updated asc"


def folder_prefix(folder: str | None) -> str:
    """Return a folder as the service writes a file's ``path``: ``logs/2024/`` (``""`` for the whole asset).

    :param folder: e.g. ``logs/2024``, ``/logs/2024/``, or ``None``.
    :raises MdspConfigError: the folder holds a quote or an empty segment.
    """
    text = str(folder or "").strip().strip("/")
    if not text:
        return ""
    if "'" in text or any(not part for part in text.split("/")):
        raise MdspConfigError(f"folder must be a path like 'logs/2024' without quotes, got {folder!r}", field="folder")
    return text + "/"


def _glob(pattern: str) -> re.Pattern[str]:
    """Compile an IoT File pattern, where only ``*`` is special (Siemens docs, IoT File filtering)."""
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)


@dataclass(frozen=True)
class FileSelection:
    """Which files of an asset a clean-up deletes: under ``folder``, named like ``name``, updated before ``before``.

    :param folder: the folder as :func:`folder_prefix` returns it (``""`` for every folder).
    :param name: a name pattern with ``*``, e.g. ``*.csv``; ``None`` for any name.
    :param before: files last updated strictly before this time are selected.
    """

    folder: str
    name: str | None
    before: datetime

    def search_filter(self) -> str:
        """Return the search filter that asks the service for these files (quoted values, ``and`` only)."""
        terms = []
        if self.name:
            terms.append(f"name eq '{self.name}'")
        if self.folder:
            terms.append(f"path eq '{self.folder}*'")
        terms.append(f"updated lt '{timeutil.format_time(self.before)}'")
        return " and ".join(terms)

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Tell whether a file found by the search really is selected (the service may ignore a filter).

        :param meta: one search result (``path``, ``name``, ``updated`` …).
        """
        path, name = str(meta.get("path") or ""), str(meta.get("name") or "")
        if not name or not path.startswith(self.folder):
            return False
        if self.name and _glob(self.name).fullmatch(name) is None:
            return False
        updated = timeutil.record_time(meta.get("updated"))
        return updated is not None and updated < self.before


def full_path(meta: Mapping[str, Any]) -> str:
    """Return ``path + name`` of a search result, e.g. ``logs/2024/a.csv``."""
    return f"{meta.get('path') or ''}{meta.get('name') or ''}".lstrip("/")


def check_name_pattern(name: str | None) -> str | None:
    """Return a name pattern fit for the search filter, or ``None`` for any name.

    :param name: e.g. ``*.csv``.
    :raises MdspConfigError: the pattern holds a quote or a ``/``.
    """
    text = str(name or "").strip()
    if not text or text == "*":
        return None
    if "'" in text or "/" in text:
        raise MdspConfigError(f"name must be a file name pattern like '*.csv', got {name!r}", field="name")
    return text


def select_files(
    files: FilesClient, entity_id: str, selection: FileSelection, *, max_files: int
) -> tuple[list[dict[str, Any]], bool]:
    """Return up to ``max_files`` selected files of an asset, oldest first, and whether more are selected.

    :param files: the IoT File client.
    :param entity_id: the asset id.
    :param selection: which files.
    :param max_files: the most files returned.
    """
    found: list[dict[str, Any]] = []
    seen = 0
    pages = files.iter_file_pages(
        entity_id, filter=selection.search_filter(), order=OLDEST_FIRST, stop_at_offset_cap=True
    )
    try:
        for page in pages:
            seen += len(page)
            for meta in page:
                if not isinstance(meta, Mapping) or not selection.matches(meta):
                    continue
                if len(found) == max_files:
                    return found, True
                found.append(dict(meta))
    finally:
        pages.close()  # type: ignore[attr-defined]
    # The search stops at its offset cap: files beyond it wait for the next run.
    return found, seen > MAX_FILE_SEARCH_OFFSET


def delete_selected(
    files: FilesClient, entity_id: str, selected: Iterable[Mapping[str, Any]], *, verify_unchanged: bool
) -> dict[str, list[str]]:
    """Delete selected files one by one; return the paths ``deleted``, ``already_gone`` and ``kept_changed``.

    :param files: the IoT File client.
    :param entity_id: the asset id.
    :param selected: search results from :func:`select_files`.
    :param verify_unchanged: read each file again before deleting it and keep it if its etag moved.
    """
    outcome: dict[str, list[str]] = {"deleted": [], "already_gone": [], "kept_changed": []}
    for meta in selected:
        path = full_path(meta)
        etag = meta.get("etag")
        if verify_unchanged and not DELETE_SENDS_IF_MATCH:
            current = files.find_file(entity_id, path)
            if current is None:
                outcome["already_gone"].append(path)
                continue
            if str(current.get("etag")) != str(etag):
                log.info("Keeping %s: it was written again (etag %s, was %s)", path, current.get("etag"), etag)
                outcome["kept_changed"].append(path)
                continue
        if_match = etag if DELETE_SENDS_IF_MATCH else None
        gone = files.delete_file(entity_id, path, missing_ok=True, if_match=if_match)
        outcome["deleted" if gone else "already_gone"].append(path)
    return outcome


def delete_older_files(
    files: FilesClient,
    entity_id: str,
    *,
    before: timeutil.TimeValue,
    folder: str | None = None,
    name: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    verify_unchanged: bool = True,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Delete an asset's files under ``folder`` last updated before ``before``; see the module docstring.

    :param files: the IoT File client.
    :param entity_id: the asset id.
    :param before: files last updated strictly before this time are deleted.
    :param folder: only files in this folder and below, e.g. ``logs/2024``; ``None`` for all.
    :param name: only names matching this pattern, e.g. ``*.csv``.
    :param max_files: the most files deleted by this call (oldest first); ``more`` tells if any are left.
    :param verify_unchanged: re-read each file before its DELETE and keep it if it was written again.
    :param dry_run: select and report, delete nothing.
    :return: ``{"entityId", "folder", "name", "updated_before", "matched", "deleted", "already_gone",
        "kept_changed", "paths", "more", "dry_run"}``; ``paths`` are the files now gone (deleted or
        already gone), or with ``dry_run`` those that would be deleted.
    """
    if not isinstance(max_files, int) or isinstance(max_files, bool) or max_files < 1:
        raise MdspConfigError(f"max_files must be a positive integer, got {max_files!r}", field="max_files")
    cutoff = timeutil.to_datetime(before, name="updated_before")
    selection = FileSelection(folder_prefix(folder), check_name_pattern(name), cutoff)
    selected, more = select_files(files, entity_id, selection, max_files=max_files)
    summary: dict[str, Any] = {
        "entityId": entity_id,
        "folder": selection.folder,
        "name": selection.name,
        "updated_before": timeutil.format_time(cutoff),
        "matched": len(selected),
        "more": more,
        "dry_run": dry_run,
    }
    if dry_run:
        paths = [full_path(m) for m in selected]
        return {**summary, "deleted": 0, "already_gone": 0, "kept_changed": 0, "paths": paths}
    outcome = delete_selected(files, entity_id, selected, verify_unchanged=verify_unchanged)
    log.info(
        "Deleted %d files of %s under %r updated before %s (%d already gone, %d kept as written again)",
        len(outcome["deleted"]),
        entity_id,
        selection.folder,
        summary["updated_before"],
        len(outcome["already_gone"]),
        len(outcome["kept_changed"]),
    )
    return {
        **summary,
        "deleted": len(outcome["deleted"]),
        "already_gone": len(outcome["already_gone"]),
        "kept_changed": len(outcome["kept_changed"]),
        "paths": outcome["deleted"] + outcome["already_gone"],
    }
