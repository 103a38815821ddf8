"""Operators for retention clean-up of IoT files: delete old files now, or let a rule delete them daily.

* :class:`MdspDeleteFilesOperator` deletes an asset's files under a folder that were last updated
  more than N days ago, through IoT File v3's per-file DELETE (published, Node SDK ``sdk/iotfile``).
  It converges: a file already gone counts as deleted, so a retried or re-run task deletes nothing
  twice and fails on nothing it already did.
* :class:`MdspEnsureFileDeleteRuleOperator` and :class:`MdspListFileDeleteRulesOperator` manage
  IoT File v4 time-to-live rules, which make the service itself delete old files every day
  (Siemens developer docs, IoT File bulk deletion samples). The base path and the delete call of
  that API are not published; :mod:`airflow_provider_mdsp.client.file_rules` names each guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import MdspBaseOperator
from airflow_provider_mdsp.timeutil import to_utc, utcnow

if TYPE_CHECKING:
    from airflow.sdk import Context


def retention_cutoff(older_than_days: Any, updated_before: Any, context: Mapping[str, Any]) -> datetime:
    """Return the time before which files are deleted: ``updated_before``, or ``older_than_days`` before the run.

    The run's time is its ``data_interval_end`` (else its ``logical_date``, else now), so a re-run of
    an old run deletes what that run deleted, not more.

    :param older_than_days: a number of days (may be fractional), or ``None``.
    :param updated_before: an explicit time, or ``None``.
    :param context: the task context.
    :raises MdspConfigError: neither or both are given, or the days are not a positive number.
    """
    explicit = to_utc(updated_before, "updated_before")
    if (explicit is None) == (older_than_days in (None, "")):
        raise MdspConfigError(
            "Give exactly one of older_than_days (e.g. 90) and updated_before (a time)", field="older_than_days"
        )
    if explicit is not None:
        return explicit
    try:
        days = float(older_than_days)
    except (TypeError, ValueError):
        days = -1.0
    if isinstance(older_than_days, bool) or not days > 0:
        raise MdspConfigError(
            f"older_than_days must be a positive number of days, got {older_than_days!r}", field="older_than_days"
        )
    reference = (
        to_utc(context.get("data_interval_end"), "data_interval_end")
        or to_utc(context.get("logical_date"), "logical_date")
        or utcnow()
    )
    return reference - timedelta(days=days)


class MdspDeleteFilesOperator(MdspBaseOperator):
    """Delete an asset's files under a folder that were last updated before a cut-off (retention clean-up).

    The search filter narrows what the service returns; every file is checked again here (folder,
    name pattern, ``updated``) before its DELETE, since the service ignores a filter it cannot
    read. At most ``max_files`` files are deleted per run, oldest first; ``more`` in the result says
    whether the next run has more to do. Returns ``{"entityId", "folder", "name", "updated_before",
    "matched", "deleted", "already_gone", "kept_changed", "paths", "more", "dry_run"}``.

    :param entity_id: the asset id (templated).
    :param folder: only files in this folder and below, e.g. ``logs/2024``; ``None`` for all (templated).
    :param name: only names matching this pattern, ``*`` as wildcard, e.g. ``*.csv`` (templated).
    :param older_than_days: delete files last updated more than this many days before the run's
        ``data_interval_end`` (or logical date, or now).
    :param updated_before: instead, an explicit cut-off time (templated).
    :param max_files: the most files deleted per run.
    :param verify_unchanged: read each file again just before its DELETE and keep it if it was
        written since the search (IoT File's DELETE takes no ``If-Match``); one more request per file.
    :param preview: only report what would be deleted (``dry_run`` in the result); delete nothing.
    """

    template_fields: tuple[str, ...] = (
        *MdspBaseOperator.template_fields,
        "entity_id",
        "folder",
        "name",
        "updated_before",
    )

    def __init__(
        self,
        *,
        entity_id: str,
        folder: str | None = None,
        name: str | None = None,
        older_than_days: float | None = None,
        updated_before: Any = None,
        max_files: int = 500,
        verify_unchanged: bool = True,
        preview: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_id = entity_id
        self.folder = folder
        self.name = name
        self.older_than_days = older_than_days
        self.updated_before = updated_before
        self.max_files = max_files
        self.verify_unchanged = verify_unchanged
        self.preview = preview

    def execute(self, context: Context) -> dict[str, Any]:
        """Select the old files, delete them one by one and return the summary."""
        cutoff = retention_cutoff(self.older_than_days, self.updated_before, context)
        return self.hook.client.files.delete_older_files(
            self.entity_id,
            before=cutoff,
            folder=self.folder,
            name=self.name,
            max_files=self.max_files,
            verify_unchanged=self.verify_unchanged,
            dry_run=self.preview,
        )


class MdspEnsureFileDeleteRuleOperator(MdspBaseOperator):
    """Make IoT File delete an asset folder's files N days after their last update, every day (a v4 rule).

    Creates the rule when it is missing and leaves it when it exists with these days, so a re-run
    creates nothing twice. Returns ``{"id", "assetId", "path", "deleteAfterDays", "state", "created",
    "action"}`` with ``action`` ``created``, ``unchanged``, ``replaced``, ``deleted`` or ``absent``.

    :param asset_id: the asset id (templated).
    :param path: the folder, e.g. ``logs``; ``None`` for every file of the asset (templated).
    :param delete_after_days: 30 to 365 (the service's bounds).
    :param replace: replace a rule on this folder that has other days (delete, then create).
    :param present: ``False`` deletes the rule on this folder instead, if there is one.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "asset_id", "path")

    def __init__(
        self,
        *,
        asset_id: str,
        path: str | None = None,
        delete_after_days: int | None = None,
        replace: bool = False,
        present: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.path = path
        self.delete_after_days = delete_after_days
        self.replace = replace
        self.present = present

    def execute(self, context: Context) -> dict[str, Any]:
        """Create, keep, replace or delete the rule, and return it with the action taken."""
        rules = self.hook.client.file_rules
        if not self.present:
            return rules.ensure_no_rule(self.asset_id, self.path)
        if self.delete_after_days is None:
            raise MdspConfigError("delete_after_days is required, from 30 to 365", field="delete_after_days")
        return rules.ensure_rule(self.asset_id, self.path, self.delete_after_days, replace=self.replace)


class MdspListFileDeleteRulesOperator(MdspBaseOperator):
    """List the tenant's IoT File delete rules (at most 50 by default), optionally of one asset.

    Returns a list of ``{"id", "assetId", "path", "deleteAfterDays", "state", "created"}``.

    :param asset_id: only this asset's rules (templated); ``None`` for all.
    """

    template_fields: tuple[str, ...] = (*MdspBaseOperator.template_fields, "asset_id")

    def __init__(self, *, asset_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """Return the rules."""
        rules = self.hook.client.file_rules.list_rules()
        return [r for r in rules if not self.asset_id or str(r.get("assetId")) == str(self.asset_id)]
