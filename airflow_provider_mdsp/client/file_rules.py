"""IoT File v4 Bulk Delete: time-to-live rules that make the service delete an asset's old files every day.

Published (Siemens developer docs, "IoT File Service version 4.x – What's New?" and "IoT File
Service – Bulk Deletion Samples", ``api-iotfile-version-v4-whats-new.html`` and
``api-iotfile-bulkdeletion-samples.html``):

* ``POST /fileDeleteRules`` with a JSON **array** of ``{"assetId", "path", "deleteAfterDays"}``
  answers an array of the created rules ``{"id", "assetId", "path", "deleteAfterDays", "created"}``
  (``created`` like ``2023-03-15 12:29:31.0``); the sample path is ``/folder1/folder2``.
* ``deleteAfterDays`` is 30 to 365, counted from a file's last update.
* At most 50 rules per tenant (Siemens can raise the limit for a tenant, so the client leaves the
  check to the service); only one rule per folder hierarchy; a rule first runs the day after it
  was created, generally at 00:00 UTC, then daily.
* ``GET /fileDeleteRules/`` lists the tenant's rules with a state: ``ACTIVE`` (runs daily) or
  ``MARKED_FOR_DELETE`` (deleted, but kept until pending executions end).

Not published, so each is one named guess here: the base path (:data:`RULES_BASE`), the call that
deletes a rule (:data:`DELETE_RULE_PATH`), the list's envelope (a bare array, like the create
answer; a Spring ``_embedded`` page or a ``content`` list is read too), paging of the list, status
codes and error bodies. Rules cannot be changed in place (no update call is published): a rule with
other days is replaced by deleting it and creating a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_mdsp.client.base import ApiClient
from airflow_provider_mdsp.client.converge import is_ambiguous
from airflow_provider_mdsp.client.paths import segment
from airflow_provider_mdsp.exceptions import MdspConfigError, MdspConflictError, MdspError

log = logging.getLogger(__name__)

#: Guess: IoT File v4 beside v3's ``/api/iotfile/v3`` (the docs name version 4.x, not its base path).
RULES_BASE = "/api/iotfile/v4"
#: Published: ``POST /fileDeleteRules`` creates rules.
RULES_PATH = "/fileDeleteRules"
#: Published: ``GET /fileDeleteRules/`` (with its trailing slash) lists the tenant's rules.
LIST_RULES_PATH = "/fileDeleteRules/"
#: Guess: a rule is deleted at ``DELETE /fileDeleteRules/{id}``.
DELETE_RULE_PATH = "/fileDeleteRules/{id}"
#: Published bounds of ``deleteAfterDays``.
MIN_DELETE_AFTER_DAYS = 30
MAX_DELETE_AFTER_DAYS = 365
#: Published default limit of rules per tenant (Siemens may raise it for a tenant; not checked here).
TENANT_RULE_LIMIT = 50
#: Published rule states.
ACTIVE = "ACTIVE"
MARKED_FOR_DELETE = "MARKED_FOR_DELETE"


def rule_path(path: str | None) -> str:
    """Return a folder as rules name it: ``/folder1/folder2`` (the published sample); ``/`` for the whole asset.

    :param path: e.g. ``logs/2024/``, ``/logs/2024`` or ``None``.
    :raises MdspConfigError: the path has an empty segment.
    """
    text = str(path or "").strip().strip("/")
    if text and any(not part.strip() for part in text.split("/")):
        raise MdspConfigError(f"path must be a folder like 'logs/2024', got {path!r}", field="path")
    return "/" + text


def _segments(path: Any) -> tuple[str, ...]:
    return tuple(p for p in str(path or "").split("/") if p)


def overlaps(a: str, b: str) -> bool:
    """Tell whether two rule folders lie in one hierarchy (one is the other or contains it).

    :param a: a rule path.
    :param b: another rule path.
    """
    sa, sb = _segments(a), _segments(b)
    shorter = min(len(sa), len(sb))
    return sa[:shorter] == sb[:shorter]


def check_days(days: Any) -> int:
    """Return ``deleteAfterDays`` if it is a whole number of days from 30 to 365 (published bounds).

    :param days: the number of days.
    :raises MdspConfigError: otherwise, naming the bounds.
    """
    whole = isinstance(days, int) and not isinstance(days, bool)
    if not whole or not MIN_DELETE_AFTER_DAYS <= days <= MAX_DELETE_AFTER_DAYS:
        raise MdspConfigError(
            f"delete_after_days must be a whole number from {MIN_DELETE_AFTER_DAYS} to {MAX_DELETE_AFTER_DAYS} "
            f"(IoT File bulk deletion), got {days!r}",
            field="delete_after_days",
        )
    return days


def rules_of(body: Any) -> list[dict[str, Any]]:
    """Return the rules of a list answer: a bare array, or an ``_embedded``/``content`` page.

    :param body: the parsed JSON answer.
    """
    if isinstance(body, Mapping):
        embedded = body.get("_embedded")
        if isinstance(embedded, Mapping):
            body = next((v for v in embedded.values() if isinstance(v, list)), [])
        else:
            body = body.get("content") or body.get("rules") or body.get("fileDeleteRules") or []
    return [dict(r) for r in body or [] if isinstance(r, Mapping)]


def _outcome(rule: Mapping[str, Any], action: str) -> dict[str, Any]:
    keys = ("id", "assetId", "path", "deleteAfterDays", "state", "created")
    return {**{k: rule.get(k) for k in keys}, "action": action}


class FileDeleteRulesClient(ApiClient):
    """List, create, delete and ensure IoT File v4 time-to-live rules (see the module docstring)."""

    def list_rules(self) -> list[dict[str, Any]]:
        """Return every file delete rule of the tenant, with its ``state``."""
        return rules_of(self.transport.request_json("GET", RULES_BASE + LIST_RULES_PATH))

    def create_rules(self, rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create rules in one call and return them as created (with ``id`` and ``created``).

        Not retried after it may have reached the service (a POST); :meth:`ensure_rule` looks up
        what a lost reply created instead.

        :param rules: ``[{"assetId", "path", "deleteAfterDays"}]``.
        """
        body = [
            {
                "assetId": str(r["assetId"]),
                "path": rule_path(r.get("path")),
                "deleteAfterDays": check_days(r.get("deleteAfterDays")),
            }
            for r in rules
        ]
        return rules_of(self.transport.request_json("POST", RULES_BASE + RULES_PATH, json=body))

    def delete_rule(self, rule_id: str, *, missing_ok: bool = True) -> bool:
        """Delete a rule; return ``False`` when it was already gone (and ``missing_ok``).

        :param rule_id: the rule's ``id``.
        :param missing_ok: a rule that is not there (404) counts as deleted.
        """
        path = RULES_BASE + DELETE_RULE_PATH.format(id=segment(rule_id, name="rule_id"))
        return self._delete(path, missing_ok=missing_ok)

    def find_rules(self, asset_id: str, path: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Return the live rule on exactly this asset folder (or ``None``) and the asset's other live rules
        in the same hierarchy. Rules ``MARKED_FOR_DELETE`` are left out.

        :param asset_id: the asset id.
        :param path: the folder.
        """
        wanted = rule_path(path)
        same, related = None, []
        for rule in self.list_rules():
            if str(rule.get("assetId")) != str(asset_id) or rule.get("state") == MARKED_FOR_DELETE:
                continue
            if _segments(rule.get("path")) == _segments(wanted):
                same = rule
            elif overlaps(str(rule.get("path") or ""), wanted):
                related.append(rule)
        return same, related

    def ensure_rule(
        self, asset_id: str, path: str | None, delete_after_days: int, *, replace: bool = False
    ) -> dict[str, Any]:
        """Make one rule delete the files under ``path`` of an asset ``delete_after_days`` after their last update.

        Created when missing, left alone when it exists with these days; never created twice: a
        create whose reply was lost (or that met a concurrent run's) is found by listing again.

        :param asset_id: the asset id.
        :param path: the folder, e.g. ``logs``; ``None`` or ``/`` for every file of the asset.
        :param delete_after_days: 30 to 365.
        :param replace: a rule on this folder with other days is deleted and created anew;
            otherwise that is an error.
        :return: ``{"id", "assetId", "path", "deleteAfterDays", "state", "created", "action"}`` with
            ``action`` ``created``, ``unchanged`` or ``replaced``.
        :raises MdspConfigError: a rule with other days exists (without ``replace``), or another
            rule already covers a folder above or below this one (one rule per hierarchy).
        """
        days, wanted = check_days(delete_after_days), rule_path(path)
        same, related = self.find_rules(asset_id, wanted)
        if related:
            other = related[0]
            raise MdspConfigError(
                f"Rule {other.get('id')} already covers {other.get('path')!r} of asset {asset_id}, in the same "
                f"folder hierarchy as {wanted!r}; IoT File allows one rule per hierarchy. Delete it or use its folder",
                field="path",
            )
        action = "created"
        if same is not None:
            if same.get("deleteAfterDays") == days:
                return _outcome(same, "unchanged")
            if not replace:
                raise MdspConfigError(
                    f"Rule {same.get('id')} on {wanted!r} of asset {asset_id} deletes after "
                    f"{same.get('deleteAfterDays')} days, not {days}; set replace=True to replace it",
                    field="delete_after_days",
                )
            self.delete_rule(str(same.get("id")))
            action = "replaced"
        return _outcome(self._create_once(asset_id, wanted, days), action)

    def _create_once(self, asset_id: str, path: str, days: int) -> dict[str, Any]:
        """POST one rule; after a lost reply or a conflict, the rule found by listing is the result."""
        try:
            created = self.create_rules([{"assetId": asset_id, "path": path, "deleteAfterDays": days}])
        except MdspError as exc:
            if not (is_ambiguous(exc) or isinstance(exc, MdspConflictError)):
                raise
            found, _ = self.find_rules(asset_id, path)
            if found is None or found.get("deleteAfterDays") != days:
                raise
            log.info("Rule on %s of %s already exists (an earlier reply was lost): %s", path, asset_id, found.get("id"))
            return found
        if not created:
            found, _ = self.find_rules(asset_id, path)
            return found or {"assetId": asset_id, "path": path, "deleteAfterDays": days}
        return {"state": ACTIVE, **created[0]}

    def ensure_no_rule(self, asset_id: str, path: str | None) -> dict[str, Any]:
        """Make sure no live rule covers exactly ``path`` of an asset: delete it if there is one.

        :param asset_id: the asset id.
        :param path: the folder.
        :return: the rule's fields with ``action`` ``deleted``, or ``{"assetId", "path", "action": "absent"}``.
        """
        same, _ = self.find_rules(asset_id, path)
        if same is None:
            return {"assetId": asset_id, "path": rule_path(path), "action": "absent"}
        self.delete_rule(str(same.get("id")))
        return _outcome(same, "deleted")
