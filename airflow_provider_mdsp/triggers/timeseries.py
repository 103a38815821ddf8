"""Trigger: wait in the triggerer for new time-series data of an asset's aspect."""

from __future__ import annotations

from typing import Any

from airflow_provider_mdsp.triggers.base import MdspPollingTrigger
from airflow_provider_mdsp.triggers.checks import check_new_timeseries


class MdspTimeSeriesTrigger(MdspPollingTrigger):
    """Fire when an aspect has a record later than ``after`` (the check of ``MdspTimeSeriesSensor``).

    :param asset_id: the asset id.
    :param aspect: the aspect (property set) name.
    :param after: ISO 8601 time; only records strictly later count.
    :param variables: only records with these variables.
    :param common: ``mdsp_conn_id``, ``poll_interval``, ``timeout_at``, ``sub_tenant`` (see
        :class:`~airflow_provider_mdsp.triggers.base.MdspPollingTrigger`).
    """

    check_function = staticmethod(check_new_timeseries)

    def __init__(
        self,
        *,
        asset_id: str,
        aspect: str,
        after: str,
        variables: list[str] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.asset_id = asset_id
        self.aspect = aspect
        self.after = after
        self.variables = list(variables) if variables is not None else None

    def check_kwargs(self) -> dict[str, Any]:
        """Return the arguments of :func:`~airflow_provider_mdsp.triggers.checks.check_new_timeseries`."""
        return {"asset_id": self.asset_id, "aspect": self.aspect, "after": self.after, "variables": self.variables}
