"""Documents with a string etag counter, as Asset Management keeps them (§3). Rules and state, no HTTP.

A new document starts at etag ``"0"``; every PUT or PATCH bumps it by one. Changing one needs
a current ``If-Match`` (:func:`~...errors.check_if_match`); ``If-None-Match: *`` makes a PUT
create-only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ...errors import ApiError, check_if_match, lookup

NO_MATCH = "mdsp.core.assetmanagement.noMatch"

Build = Callable[[str, Any, str], dict[str, Any]]


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON merge patch.

    :param target: the current document
    :param patch: the patch (``null`` removes a key)
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def next_etag(current: str) -> str:
    """Return the etag after ``current`` (the counter, rendered as a string).

    :param current: the current etag
    """
    return str(int(current) + 1)


class EtagDocuments:
    """Documents of one kind by id, each with an etag counter.

    :param label: the kind as messages name it, capitalised, e.g. ``Aspect type``
    :param stale_status: status for a stale ``If-Match``
    :param build: ``(id, body, etag) -> document``; validates the body (raises 400)
    """

    def __init__(self, label: str, stale_status: int, build: Build) -> None:
        self.label = label
        self.stale_status = stale_status
        self.build = build
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, doc_id: str) -> dict[str, Any]:
        """Return a document.

        :param doc_id: its id
        :raises ApiError: 404
        """
        return lookup(self.items, doc_id, f"{self.label} '{doc_id}' not found", NO_MATCH)

    def current(self, doc_id: str, if_match: str | None) -> dict[str, Any]:
        """Return a document about to change, once ``If-Match`` names its current etag.

        :param doc_id: its id
        :param if_match: the normalised ``If-Match`` value
        :raises ApiError: 404, or 400/stale status from :func:`check_if_match`
        """
        existing = self.get(doc_id)
        self._check_if_match(existing, doc_id, if_match)
        return existing

    def put(
        self, doc_id: str, body: Any, if_match: str | None, if_none_match: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create or replace a document; return it and whether it was created.

        :param doc_id: its id
        :param body: the document as sent
        :param if_match: required to replace
        :param if_none_match: ``*`` forces create-only
        """
        existing = self.items.get(doc_id)
        if existing is not None:
            if if_none_match == "*":
                raise ApiError(self.stale_status, f"{self.label} '{doc_id}' already exists")
            self._check_if_match(existing, doc_id, if_match)
            etag = next_etag(existing["etag"])
        else:
            etag = "0"
        self.items[doc_id] = self.build(doc_id, body, etag)
        return self.items[doc_id], existing is None

    def patch(self, doc_id: str, patch: Any, if_match: str | None) -> dict[str, Any]:
        """Merge-patch a document (RFC 7396) and return it.

        :param doc_id: its id
        :param patch: the patch
        :param if_match: current etag
        """
        existing = self.current(doc_id, if_match)
        self.items[doc_id] = self.build(doc_id, merge_patch(existing, patch), next_etag(existing["etag"]))
        return self.items[doc_id]

    def _check_if_match(self, existing: dict[str, Any], doc_id: str, if_match: str | None) -> None:
        check_if_match(existing["etag"], if_match, self.stale_status, f"{self.label.lower()} '{doc_id}'")
