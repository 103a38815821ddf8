"""Sensor: wait for events that match a filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_mdsp.operators.events import EventFilterMixin
from airflow_provider_mdsp.sensors.base import MdspBaseSensor, point_in_time

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_mdsp.triggers.events import MdspEventTrigger

#: Most matching event ids put in XCom (see :data:`airflow_provider_mdsp.triggers.checks.DEFAULT_MAX_MATCHES`).
DEFAULT_MAX_MATCHES = 100


class MdspEventSensor(EventFilterMixin, MdspBaseSensor):
    """Wait until events match a filter; return their ids and count.

    The XCom value is ``{"count", "event_ids", "first_time", "last_time", "truncated"}``: the oldest
    ``max_matches`` matching events, ``truncated`` telling whether more matched. Without ``after`` (or
    a ``timestamp`` term in ``filter``) Event Management searches only the last 7 days.

    :param filter: an Event Management filter, a dict or a JSON string (templated), e.g.
        ``{"severity": 1, "source": {"startsWith": "Line 3"}}``.
    :param type_id: only events of this type (templated).
    :param entity_id: only events of this asset (templated).
    :param after: only events with a timestamp after this time (templated; ISO 8601 or datetime),
        e.g. ``"{{ data_interval_start }}"``.
    :param max_matches: the most event ids returned.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    template_fields: tuple[str, ...] = (*MdspBaseSensor.template_fields, "filter", "type_id", "entity_id", "after")
    template_fields_renderers = {"filter": "json"}

    def __init__(
        self,
        *,
        after: Any = None,
        max_matches: int = DEFAULT_MAX_MATCHES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.after = after
        self.max_matches = max_matches

    def make_trigger(self, context: Context, timeout_at: str | None = None) -> MdspEventTrigger:
        """Return the trigger checking for matching events."""
        from airflow_provider_mdsp.triggers.events import MdspEventTrigger

        after = point_in_time(self.after, context, "after") if self.after not in (None, "") else None
        return MdspEventTrigger(
            mdsp_conn_id=self.mdsp_conn_id,
            filter=self.event_filter({"after": after} if after else None),
            max_matches=self.max_matches,
            poll_interval=self.poke_interval,
            timeout_at=timeout_at,
            sub_tenant=self.sub_tenant or None,
        )
