"""Trigger: wait in the triggerer for events matching a filter."""

from __future__ import annotations

from typing import Any

from airflow_provider_mdsp.triggers.base import MdspPollingTrigger
from airflow_provider_mdsp.triggers.checks import DEFAULT_MAX_MATCHES, check_events


class MdspEventTrigger(MdspPollingTrigger):
    """Fire when events match a filter (the check of ``MdspEventSensor``).

    :param filter: a composed Event Management filter (a plain dict).
    :param max_matches: the most event ids reported.
    :param common: ``mdsp_conn_id``, ``poll_interval``, ``timeout_at``, ``sub_tenant`` (see
        :class:`~airflow_provider_mdsp.triggers.base.MdspPollingTrigger`).
    """

    check_function = staticmethod(check_events)

    def __init__(
        self,
        *,
        filter: dict[str, Any],
        max_matches: int = DEFAULT_MAX_MATCHES,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.filter = dict(filter)
        self.max_matches = int(max_matches)

    def check_kwargs(self) -> dict[str, Any]:
        """Return the arguments of :func:`~airflow_provider_mdsp.triggers.checks.check_events`."""
        return {"filter": self.filter, "max_matches": self.max_matches}
