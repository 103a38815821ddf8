"""Sensor: wait for new time-series data of an asset's aspect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.operators.timeseries import variables_list
from airflow_provider_mdsp.sensors.base import MdspBaseSensor, point_in_time

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.timeseries import MdspTimeSeriesTrigger


class MdspTimeSeriesSensor(MdspBaseSensor):
    """Wait until an aspect of an asset has a record later than ``after``.

    Each check is one cheap read (``limit=1`` over ``(after, now]``). The XCom value is
    ``{"asset_id", "aspect", "after", "to", "first_time"}``: the new records lie in ``(after, to]``
    (``to`` is when the sensor looked), ``first_time`` is the earliest one's.

    :param asset_id: the asset id (templated).
    :param aspect: the aspect (property set) name (templated).
    :param after: only records strictly later count (templated; default: the run's
        ``data_interval_end``, else its ``run_after``).
    :param variables: only records with these variables, a list or ``"a,b"`` (templated).
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseSensor.template_fields, "asset_id", "aspect", "after", "variables")

    def __init__(
        self,
        *,
        asset_id: str,
        aspect: str,
        after: Any = None,
        variables: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_id = asset_id
        self.aspect = aspect
        self.after = after
        self.variables = variables

    def make_trigger(self, context: Context, timeout_at: str | None = None) -> MdspTimeSeriesTrigger:
        """Return the trigger checking for records after ``after``."""
        from airflow_provider_mdsp.triggers.timeseries import MdspTimeSeriesTrigger

        return MdspTimeSeriesTrigger(
            mdsp_conn_id=self.mdsp_conn_id,
            asset_id=self.asset_id,
            aspect=self.aspect,
            after=point_in_time(self.after, context, "after"),
            variables=variables_list(self.variables),
            poll_interval=self.poke_interval,
            timeout_at=timeout_at,
            sub_tenant=self.sub_tenant or None,
        )
