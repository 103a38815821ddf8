"""IoT File v4 Bulk Delete: time-to-live rules that delete an asset's old files daily. Rules and state, no HTTP.

Rules, each with its source (Siemens developer docs, "IoT File Service – Bulk Deletion Samples",
``api-iotfile-bulkdeletion-samples.html``, and "Version 4.x – What's New?"):

* a create names an array of ``{assetId, path, deleteAfterDays}`` and answers the created rules
  ``{id (a UUID), assetId, path, deleteAfterDays, created ("2023-03-15 12:29:31.0")}``;
* ``deleteAfterDays`` is a whole number from 30 to 365, counted from a file's last update;
* at most 50 rules per tenant (the default; Siemens can raise it per tenant: ``limit``);
* only one rule per folder hierarchy of an asset: a rule on ``/a`` refuses one on ``/a`` or
  ``/a/b`` of the same asset, and the other way round;
* a rule runs first on the day after its creation, at 00:00 UTC, then daily; it deletes the files
  under its path last updated more than ``deleteAfterDays`` days before the run;
* the list answers every rule of the tenant with its ``state``, ``ACTIVE`` here.

Gap choices (unpublished; each a named constant): :data:`CREATED_STATUS`, :data:`INVALID_STATUS`
for a malformed rule or one past the limit, :data:`OVERLAP_STATUS` for a second rule in one
hierarchy; a create is all or nothing; a deleted rule is removed at once (the real service may
keep it ``MARKED_FOR_DELETE`` while executions are pending; not emulated), and deleting an unknown
rule answers 404. ``assetId`` is not checked against Asset Management.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...errors import ApiError
from ...timefmt import parse_iso

MIN_DAYS, MAX_DAYS = 30, 365  # published bounds of deleteAfterDays
DEFAULT_RULE_LIMIT = 50  # published: "Maximum 50 TTL rules can be created per tenant"
ACTIVE = "ACTIVE"
CREATED_STATUS = 201  # gap: the samples show no status
INVALID_STATUS = 400  # gap: the samples show no error
OVERLAP_STATUS = 409  # gap: the samples show no error
DAY_MS = 86_400_000


@dataclass
class Rule:
    """One time-to-live rule and the last midnight it ran for (epoch ms)."""

    id: str
    asset_id: str
    path: str
    days: int
    created_ms: int
    last_run_ms: int

    def render(self) -> dict[str, Any]:
        """Return the rule as the service answers it."""
        created = datetime.fromtimestamp(self.created_ms / 1000, tz=timezone.utc)
        stamp = created.strftime("%Y-%m-%d %H:%M:%S.") + str(created.microsecond // 100_000)
        return {
            "id": self.id,
            "assetId": self.asset_id,
            "path": self.path,
            "deleteAfterDays": self.days,
            "created": stamp,
            "state": ACTIVE,
        }


def segments(path: str) -> tuple[str, ...]:
    """Return the folders of a rule path: ``/a/b`` gives ``("a", "b")``; ``/`` gives ``()``."""
    return tuple(p for p in path.split("/") if p)


def same_hierarchy(a: str, b: str) -> bool:
    """Tell whether one rule path is the other or lies under it."""
    sa, sb = segments(a), segments(b)
    n = min(len(sa), len(sb))
    return sa[:n] == sb[:n]


def _midnight(ms: int) -> int:
    return ms - ms % DAY_MS


def check_rule(raw: Any) -> tuple[str, str, int]:
    """Return ``(assetId, path, deleteAfterDays)`` of a rule in a create request, or refuse it.

    :param raw: one element of the request array
    :raises ApiError: :data:`INVALID_STATUS` naming the field
    """
    if not isinstance(raw, dict):
        raise ApiError(INVALID_STATUS, "Each rule must be an object {assetId, path, deleteAfterDays}")
    asset, path, days = raw.get("assetId"), raw.get("path"), raw.get("deleteAfterDays")
    if not isinstance(asset, str) or not asset.strip():
        raise ApiError(INVALID_STATUS, "assetId is required")
    if not isinstance(path, str) or not path.strip():
        raise ApiError(INVALID_STATUS, "path is required")
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ApiError(INVALID_STATUS, f"deleteAfterDays must be from {MIN_DAYS} to {MAX_DAYS}, got {days!r}")
    return asset, "/" + "/".join(segments(path)), days


class FileDeleteRules:
    """The time-to-live rules of one tenant, run against its files.

    :param files: the tenant's file backend (``files`` dict of (entity, path) -> stored file)
    :param clock: epoch-ms clock
    :param limit: rules per tenant
    """

    def __init__(self, files: Any, clock: Callable[[], int], limit: int = DEFAULT_RULE_LIMIT) -> None:
        self.files = files
        self._clock = clock
        self.limit = limit
        self.rules: dict[str, Rule] = {}

    def create(self, body: Any) -> list[dict[str, Any]]:
        """Create every rule of a request array, or none.

        :param body: the parsed request body
        :raises ApiError: a malformed rule, the tenant limit, or a second rule in one hierarchy
        """
        if not isinstance(body, list) or not body:
            raise ApiError(INVALID_STATUS, "The body must be a non-empty array of rules")
        wanted = [check_rule(raw) for raw in body]
        if len(self.rules) + len(wanted) > self.limit:
            raise ApiError(
                INVALID_STATUS, f"At most {self.limit} file delete rules per tenant; {len(self.rules)} exist"
            )
        placed = [(r.asset_id, r.path, r.id) for r in self.rules.values()]
        for asset, path, _ in wanted:
            clash = next((p for p in placed if p[0] == asset and same_hierarchy(p[1], path)), None)
            if clash is not None:
                raise ApiError(
                    OVERLAP_STATUS,
                    f"Only one rule per folder hierarchy: {path} of asset {asset} meets rule "
                    f"{clash[2] or 'in this request'} on {clash[1]}",
                )
            placed.append((asset, path, ""))
        now = self._clock()
        made = [Rule(str(uuid.uuid4()), a, p, d, now, _midnight(now)) for a, p, d in wanted]
        self.rules.update((r.id, r) for r in made)
        return [r.render() for r in made]

    def list(self) -> list[dict[str, Any]]:
        """Return every rule of the tenant, oldest first."""
        return [r.render() for r in sorted(self.rules.values(), key=lambda r: (r.created_ms, r.id))]

    def delete(self, rule_id: str) -> None:
        """Delete a rule.

        :param rule_id: its id
        :raises ApiError: 404 for an unknown rule
        """
        if self.rules.pop(rule_id, None) is None:
            raise ApiError(404, f"File delete rule {rule_id} not found")

    def run_due(self) -> int:
        """Run every rule whose next midnight (UTC) has passed, once per midnight; return the files deleted."""
        today = _midnight(self._clock())
        deleted = 0
        for rule in list(self.rules.values()):
            if rule.last_run_ms < today:
                deleted += self._run(rule, today)
                rule.last_run_ms = today
        return deleted

    def _run(self, rule: Rule, at_ms: int) -> int:
        cutoff_ms = at_ms - rule.days * DAY_MS
        folder = "/".join(segments(rule.path))
        prefix = folder + "/" if folder else ""
        doomed = [
            key
            for key, stored in self.files.files.items()
            if key[0] == rule.asset_id and key[1].startswith(prefix) and parse_iso(stored.meta["updated"]) < cutoff_ms
        ]
        for key in doomed:
            del self.files.files[key]
        return len(doomed)
