"""Trigger: wait in the triggerer for an Event Management create or delete job to finish."""

from __future__ import annotations

from typing import Any

from airflow_provider_mdsp.triggers.base import MdspJobTrigger
from airflow_provider_mdsp.triggers.checks import check_events_job, events_job_failure


class MdspEventsJobTrigger(MdspJobTrigger):
    """Fire when an event job is FINISHED (success event) or FINISHED_WITH_ERROR (error event with its details).

    Used by ``MdspCreateEventsJobOperator`` and ``MdspDeleteEventsJobOperator`` in deferrable mode;
    they poll in the worker through the same check.

    :param mdsp_conn_id: the Airflow Connection of type ``mdsp``.
    :param kind: ``create`` or ``delete``.
    :param job_id: the job id.
    :param poll_interval: seconds between checks.
    :param timeout_at: ISO 8601 deadline, or ``None``.
    :param sub_tenant: the subtenant the task impersonates, if any.
    :param carry: plain JSON the operator resumes from (its progress over several jobs), handed back
        in the event as ``carry``. It travels with the trigger, not the deferral's ``kwargs``, because
        ``dag.test()`` (and so ``airflow dags test``) resumes a task with the event only.
    """

    check_function = staticmethod(check_events_job)
    failure_function = staticmethod(events_job_failure)

    def __init__(self, *, kind: str, carry: dict[str, Any] | None = None, **common: Any) -> None:
        super().__init__(**common)
        self.kind = kind
        self.carry = dict(carry or {})

    def check_kwargs(self) -> dict[str, Any]:
        """Return the check's arguments: the job kind and id."""
        return {"kind": self.kind, "job_id": self.job_id}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger, ``carry`` included."""
        path, kwargs = super().serialize()
        return path, {**kwargs, "carry": self.carry}

    def outcome(self, result: dict[str, Any]) -> dict[str, Any]:
        """Return the event payload, with ``carry`` for the resuming operator."""
        return {**super().outcome(result), "carry": self.carry}
