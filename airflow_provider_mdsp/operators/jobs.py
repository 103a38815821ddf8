"""What the operators that start an asynchronous job and wait for it share: one wait, two places.

A job operator (TS Bulk import, Data Lake export, Event Management jobs) waits for its job in the
worker (:meth:`MdspJobOperator.wait_in_worker`, polling the trigger's check) or, when deferrable, in
the triggerer (:meth:`MdspJobOperator.defer_to_trigger`). Both go through the same trigger object,
so the two modes send the same requests and end in the same event (see
:mod:`airflow_provider_mdsp.triggers.base`). What to submit, what to remember across tries and how
to read the event stay with each operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.operators.base import DEFERRAL_GRACE, MdspBaseOperator, default_deferrable
from airflow_provider_mdsp.operators.waiting import TIMEOUT, poll_until
from airflow_provider_mdsp.timeutil import deadline_after

if TYPE_CHECKING:
    from airflow_provider_mdsp.triggers.base import MdspJobTrigger

#: Default seconds between status checks of a job (our choice).
DEFAULT_POLL_INTERVAL = 30.0
#: Default longest wait for a job. A TS Bulk job imports at most a day of data, up to 1 GB (Siemens
#: docs, IoT TS Bulk overview); no duration is published for Data Lake exports, which get the same
#: default (our choice; set ``timeout`` per task).
DEFAULT_TIMEOUT = timedelta(hours=6)


def seconds(value: float | timedelta, name: str) -> float:
    """Return a duration in seconds, from seconds or a ``timedelta``.

    :param value: the duration.
    :param name: the parameter name, for the error.
    :raises MdspConfigError: the duration is negative.
    """
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if total < 0:
        raise MdspConfigError(f"{name} must not be negative", field=name)
    return total


class MdspJobOperator(MdspBaseOperator):
    """Base of the operators that wait for an asynchronous job, in the worker or deferred to the triggerer.

    A subclass names its trigger class in :meth:`job_trigger` and what its messages call the job in
    :meth:`job_label`.

    :param poll_interval: seconds (or a timedelta) between status checks; default 30 s.
    :param timeout: longest wait (seconds or timedelta), default 6 h; the job itself keeps running
        after it, and a retry of the task waits for the same job again.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    """

    def __init__(
        self,
        *,
        poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.timeout = seconds(timeout, "timeout")
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)

    @staticmethod
    def job_trigger() -> type[MdspJobTrigger]:
        """Return the trigger class that checks the job (imported only when a task runs)."""
        raise NotImplementedError

    def job_label(self) -> str:
        """Return what log lines and errors call the job, e.g. ``import job``."""
        raise NotImplementedError

    def make_trigger(self, job_id: str, timeout_at: str | None = None, **extra: Any) -> MdspJobTrigger:
        """Return the trigger checking the job; the worker's polling uses its check too.

        :param job_id: the job id.
        :param timeout_at: the trigger's ISO 8601 deadline, when it is to run in the triggerer.
        :param extra: further arguments of the subclass's trigger.
        """
        return self.job_trigger()(
            mdsp_conn_id=self.mdsp_conn_id,
            job_id=job_id,
            poll_interval=self.poll_interval,
            timeout_at=timeout_at,
            sub_tenant=self.sub_tenant or None,
            **extra,
        )

    def wait_in_worker(self, trigger: MdspJobTrigger) -> dict[str, Any]:
        """Poll the trigger's check in the worker until the job ends or ``timeout`` passes; return its event."""
        result = poll_until(
            lambda: trigger.check_once(self.hook), poll_interval=self.poll_interval, timeout=self.timeout
        )
        if result is None:
            return {"status": TIMEOUT, "message": self.timeout_message(trigger.job_id)}
        return trigger.outcome(result)

    def defer_to_trigger(self, job_id: str, *, kwargs: Mapping[str, Any] | None = None, **extra: Any) -> NoReturn:
        """Hand the wait to the triggerer (it resumes the task in ``execute_complete``).

        :param job_id: the job id.
        :param kwargs: further keyword arguments of ``execute_complete``.
        :param extra: further arguments of the subclass's trigger.
        """
        self.log.info("Deferring: waiting for %s %s in the triggerer", self.job_label(), job_id)
        self.defer(
            trigger=self.make_trigger(job_id, deadline_after(self.timeout), **extra),
            method_name="execute_complete",
            kwargs=dict(kwargs) if kwargs is not None else None,
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def timeout_message(self, job_id: str) -> str:
        """Return the error of a wait that ran out (the job keeps running; a retry waits for it)."""
        label = self.job_label()
        return (
            f"{label[:1].upper()}{label[1:]} {job_id} did not finish within {self.timeout:.0f} s; it keeps "
            "running, and a retry of this task waits for the same job"
        )
